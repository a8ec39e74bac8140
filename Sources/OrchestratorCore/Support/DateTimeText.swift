/// Reading ISO-8601 / RFC 3339 date-times as epoch milliseconds, for producers that send
/// timestamps as text (ledger documents exported from MongoDB, Python's `isoformat()`).
public enum DateTimeText {
    /// The instant `text` names, or `nil` when it is not a date-time.
    ///
    /// Accepted: `YYYY-MM-DD`, then `T` (or `t`, or a space), `hh:mm:ss`, an optional
    /// fraction (`.` or `,`, any number of digits; below a millisecond is truncated), then `Z`,
    /// an offset `±hh:mm` / `±hhmm` / `±hh`, or nothing (read as UTC, like a naive Python
    /// `isoformat()`). A leap second (`:60`) counts as the first second of the next minute.
    public static func epochMillis(_ text: String) -> EpochMillis? {
        var reader = Reader(bytes: Array(text.utf8))
        return reader.dateTime()
    }

    private struct Reader {
        let bytes: [UInt8]
        var index = 0

        mutating func dateTime() -> EpochMillis? {
            guard let year = digits(4), skip("-"), let month = digits(2), skip("-"), let day = digits(2),
                (1...12).contains(month), (1...Self.daysIn(month: month, year: year)).contains(day)
            else { return nil }
            guard index < bytes.count, [UInt8(ascii: "T"), UInt8(ascii: "t"), 0x20].contains(bytes[index]) else {
                return nil
            }
            index += 1
            guard let hour = digits(2), skip(":"), let minute = digits(2), hour < 24, minute < 60 else { return nil }
            guard skip(":"), let second = digits(2), second <= 60 else { return nil }
            var millis: Int64 = 0
            if skip(".") || skip(",") {
                guard let fraction = fractionMillis() else { return nil }
                millis = fraction
            }
            guard let offsetMinutes = offset(), index == bytes.count else { return nil }
            let days = Self.daysFromEpoch(year: year, month: month, day: day)
            let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offsetMinutes * 60
            return seconds * 1_000 + millis
        }

        /// Minutes east of UTC; 0 for `Z` or no offset; `nil` when malformed.
        mutating func offset() -> Int64? {
            guard index < bytes.count else { return 0 }
            if skip("Z") || skip("z") { return 0 }
            let sign: Int64
            if skip("+") {
                sign = 1
            } else if skip("-") {
                sign = -1
            } else {
                return nil
            }
            guard let hours = digits(2), hours < 24 else { return nil }
            var minutes: Int64 = 0
            if index < bytes.count {
                _ = skip(":")
                guard let value = digits(2), value < 60 else { return nil }
                minutes = value
            }
            return sign * (hours * 60 + minutes)
        }

        /// At least one digit; the first three are milliseconds.
        mutating func fractionMillis() -> Int64? {
            var millis: Int64 = 0
            var count = 0
            while index < bytes.count, let digit = Self.digit(bytes[index]) {
                if count < 3 { millis = millis * 10 + digit }
                count += 1
                index += 1
            }
            guard count > 0 else { return nil }
            for _ in count..<max(count, 3) { millis *= 10 }
            return millis
        }

        mutating func digits(_ count: Int) -> Int64? {
            guard index + count <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[index..<index + count] {
                guard let digit = Self.digit(byte) else { return nil }
                value = value * 10 + digit
            }
            index += count
            return value
        }

        mutating func skip(_ character: Unicode.Scalar) -> Bool {
            guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
            index += 1
            return true
        }

        static func digit(_ byte: UInt8) -> Int64? {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? Int64(byte - UInt8(ascii: "0")) : nil
        }

        static func daysIn(month: Int64, year: Int64) -> Int64 {
            switch month {
            case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
            case 4, 6, 9, 11: return 30
            default: return 31
            }
        }

        /// Days since 1970-01-01 in the proleptic Gregorian calendar (eras of 400 years).
        static func daysFromEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
            let shiftedYear = month <= 2 ? year - 1 : year
            let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
            let yearOfEra = shiftedYear - era * 400
            let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
            let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
            return era * 146_097 + dayOfEra - 719_468
        }
    }
}
