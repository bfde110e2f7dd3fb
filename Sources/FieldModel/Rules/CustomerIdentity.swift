/// DOMAIN.md §4.12: what makes two customer records the same store.
///
/// Two customers are duplicates when their tax numbers match, or when their normalized names
/// match together with their phone's digits or their postal code.
public enum CustomerIdentity {
    /// Legal-form words dropped from names before comparing.
    static let legalForms: Set<String> = ["inc", "llc", "ltd", "co", "corp", "company", "gmbh", "sa", "srl", "plc", "the"]

    /// The name as compared: lower case, letters and digits only, legal forms dropped, one space
    /// between words ("The Corner Deli, Inc." → "corner deli").
    public static func normalizedName(_ name: String) -> String {
        var words: [String] = []
        var word = ""
        for character in name.lowercased() {
            if character.isLetter || character.isNumber {
                word.append(character)
            } else if character != "'" && character != "’" {
                if !word.isEmpty { words.append(word) }
                word = ""
            }
        }
        if !word.isEmpty { words.append(word) }
        return words.filter { !legalForms.contains($0) }.joined(separator: " ")
    }

    /// A phone number's digits ("+1 (212) 555-0100" → "12125550100").
    public static func phoneDigits(_ phone: String) -> String {
        String(phone.filter(\.isASCII).filter(\.isNumber))
    }
}
