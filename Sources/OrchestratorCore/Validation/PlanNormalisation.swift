/// How producers' loose spellings map to the ticket contract's enums (CONTRACTS.md).
public enum PlanNormalisation {
    /// Maps a plan's `task_type` to the ticket enum, case-insensitively: `create`/`update` →
    /// `EXECUTE`, `query` → `QUERY`, `transform` → `TRANSFORM`, a ticket symbol → itself; anything
    /// else → `EXECUTE` with the original returned so it can be kept in the ticket's metadata.
    public static func taskType(_ text: String) -> (type: TaskType, original: String?) {
        let key = text.trimmingCharacters(in: .whitespaces).lowercased()
        switch key {
        case "create", "update", "execute": return (.EXECUTE, nil)
        case "query", "read": return (.QUERY, nil)
        case "transform": return (.TRANSFORM, nil)
        default:
            if let type = TaskType(lenient: key) { return (type, nil) }
            return (.EXECUTE, text)
        }
    }

    /// Maps `original_priority`: the four symbols in any case, `medium` → `NORMAL`, `urgent` →
    /// `CRITICAL`; empty → `nil` (caller assumes NORMAL); anything else is a problem.
    public static func priority(_ text: String) -> Result<Priority?, ValidationProblem> {
        let key = text.trimmingCharacters(in: .whitespaces).uppercased()
        if key.isEmpty { return .success(nil) }
        if let value = Priority(lenient: key) { return .success(value) }
        switch key {
        case "MEDIUM": return .success(.NORMAL)
        case "URGENT": return .success(.CRITICAL)
        default:
            return .failure(
                .init(
                    .invalidValue,
                    field: "original_priority",
                    "unknown value \"\(text)\" (expected LOW, NORMAL, HIGH, CRITICAL in any case)"
                )
            )
        }
    }

    /// Maps `original_security_level`: the four symbols in any case; empty → `nil` (caller assumes
    /// INTERNAL); anything else is a problem.
    public static func securityLevel(_ text: String) -> Result<SecurityLevel?, ValidationProblem> {
        let key = text.trimmingCharacters(in: .whitespaces)
        if key.isEmpty { return .success(nil) }
        if let value = SecurityLevel(lenient: key) { return .success(value) }
        return .failure(
            .init(
                .invalidValue,
                field: "original_security_level",
                "unknown value \"\(text)\" (expected PUBLIC, INTERNAL, CONFIDENTIAL, RESTRICTED in any case)"
            )
        )
    }
}

extension ValidationProblem: Error {}
