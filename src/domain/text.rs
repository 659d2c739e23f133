//! Text people type that identifies someone: one form for each string (Unicode NFC), no invisible
//! or direction-changing characters in names and record numbers, and record numbers compared in
//! a form where look-alikes are the same, so that two patients can't differ by what no one sees.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::{UnicodeNormalization, is_nfc_quick};

use super::Invalid;

/// The string in NFC: the same text always the same code points (é as one character, not two).
pub fn nfc(s: &str) -> Option<String> {
    match is_nfc_quick(s.chars()) {
        unicode_normalization::IsNormalized::Yes => None,
        _ => Some(s.nfc().collect()),
    }
}

/// White space as the API document's patterns count it (JSON Schema's regular expressions are
/// ECMAScript's, whose `\s` is Unicode's White_Space without NEL, U+0085, and with the byte-order
/// mark, U+FEFF), so that what the document calls valid is what the service accepts.
pub fn is_schema_space(c: char) -> bool {
    (c.is_whitespace() && c != '\u{85}') || c == '\u{feff}'
}

/// Whether text is empty or white space only, as the document's `\S` patterns count it.
pub fn is_blank(s: &str) -> bool {
    s.chars().all(is_schema_space)
}

/// The text without the white space at its ends, as the document's patterns count it.
pub fn trim(s: &str) -> &str {
    s.trim_matches(is_schema_space)
}

/// Characters that change how text reads without being seen: controls, zero-width characters and
/// the marks, overrides and isolates of bidirectional text.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200B}'..='\u{200F}' // zero-width space, non-joiner, joiner; LTR and RTL marks
            | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{2066}'..='\u{2069}' // bidi isolates
            | '\u{061C}' // Arabic letter mark
            | '\u{FEFF}' // zero-width no-break space
            | '\u{00AD}' // soft hyphen
            | '\u{180E}' // Mongolian vowel separator
        )
}

/// Refuses a name or record number holding a hidden character.
pub fn check_visible(invalid: &mut Invalid, field: &str, text: &str) {
    invalid.check(
        !text.chars().any(is_hidden),
        field,
        "must not contain control, zero-width or text-direction characters",
    );
}

/// The form in which record numbers are compared: compatibility forms folded (full-width `Ｍ` is
/// `M`), accents dropped, case folded, and everything but letters and digits left out (`MRN-0042`
/// is `mrn0042`). Two record numbers with one key are one patient's.
pub fn record_key(s: &str) -> String {
    s.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn white_space_is_what_the_documents_patterns_call_it() {
        // NEL is no white space to ECMAScript's `\s`, so "\u{85}" is not blank; a no-break space
        // and a byte-order mark are.
        assert!(!is_blank("\u{85}"));
        assert!(is_blank(" \u{a0}\u{feff}\t"));
        assert!(is_blank(""));
        assert_eq!(trim("\u{feff} a\u{85} "), "a\u{85}");
    }

    #[test]
    fn text_is_made_nfc_and_nfc_text_is_left_alone() {
        assert_eq!(nfc("Jose\u{301}").as_deref(), Some("José"));
        assert_eq!(nfc("José"), None);
        assert_eq!(nfc("MRN-00421"), None);
    }

    #[test]
    fn hidden_characters_are_refused_and_visible_neighbours_are_not() {
        for (hidden, visible) in [
            ('\u{200B}', '\u{2010}'), // zero-width space; a hyphen
            ('\u{200D}', '\u{2011}'),
            ('\u{2060}', '\u{2030}'), // word joiner; per mille
            ('\u{FEFF}', '\u{FE50}'),
            ('\u{202E}', '\u{202F}'), // right-to-left override; narrow no-break space
            ('\u{2066}', '\u{2070}'),
            ('\u{0007}', ' '),
            ('\u{009B}', '\u{00A0}'),
        ] {
            assert!(is_hidden(hidden), "{:04X}", hidden as u32);
            assert!(!is_hidden(visible), "{:04X}", visible as u32);
        }
        let mut invalid = Invalid::default();
        check_visible(&mut invalid, "name", "Dr. Lee\u{202E}gnp.exe");
        check_visible(&mut invalid, "ok", "Dr. Lée-Ørsted");
        assert_eq!(invalid.0.len(), 1);
        assert_eq!(invalid.0[0].field, "name");
    }

    #[test]
    fn look_alike_record_numbers_have_one_key_and_different_ones_do_not() {
        let plain = record_key("MRN-00421");
        for look_alike in [
            "MRN-00421",
            "mrn-00421",
            "MRN 00421",
            "MRN00421",
            "ＭＲＮ－００４２１", // full-width
            "MRN-00421\u{301}",   // a combining accent
            "MRN-0042\u{2460}",   // a circled digit one
        ] {
            assert_eq!(record_key(look_alike), plain, "{look_alike}");
        }
        for different in ["MRN-00422", "MRN-004210", "MRM-00421", "MRN-0421"] {
            assert_ne!(record_key(different), plain, "{different}");
        }
        assert_eq!(record_key("Pérez-7"), record_key("PEREZ 7"));
    }
}
