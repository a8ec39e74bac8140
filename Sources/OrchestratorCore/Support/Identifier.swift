/// The limits every id accepted from outside obeys (`decision_id`, `plan_id`, `intent_id`,
/// `ticket_id`, and the ids in API paths): at most ``maxBytes`` UTF-8 bytes and no control
/// characters (Unicode category Cc: U+0000–U+001F, U+007F–U+009F). Spaces and non-ASCII
/// letters are allowed.
public enum Identifier {
    /// The longest id, in UTF-8 bytes.
    public static let maxBytes = 256

    /// Why `text` cannot be an id, or `nil` when it can. Ids derived from another id (a workflow
    /// id is `orch-` and a plan id) pass a longer `maxBytes`.
    public static func problem(_ text: String, maxBytes: Int = maxBytes) -> String? {
        let length = text.utf8.count
        if length > maxBytes {
            return "an id is at most \(maxBytes) UTF-8 bytes, this one has \(length)"
        }
        if let control = text.unicodeScalars.first(where: { $0.properties.generalCategory == .control }) {
            let hex = String(control.value, radix: 16, uppercase: true)
            let code = String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            return "an id may not contain control characters (found U+\(code))"
        }
        return nil
    }
}
