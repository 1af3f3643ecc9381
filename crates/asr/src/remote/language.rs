//! Language names and tags as APIs report them, turned into ISO 639-1 codes.

/// Whisper's language names (what OpenAI's `verbose_json` reports, e.g. `english`) with
/// their codes, plus common aliases. Whisper's `jw` for Javanese is written as ISO's `jv`;
/// Hawaiian and Cantonese have no two-letter code and keep Whisper's.
const NAMES: &[(&str, &str)] = &[
    ("english", "en"),
    ("chinese", "zh"),
    ("mandarin", "zh"),
    ("german", "de"),
    ("spanish", "es"),
    ("castilian", "es"),
    ("russian", "ru"),
    ("korean", "ko"),
    ("french", "fr"),
    ("japanese", "ja"),
    ("portuguese", "pt"),
    ("turkish", "tr"),
    ("polish", "pl"),
    ("catalan", "ca"),
    ("valencian", "ca"),
    ("dutch", "nl"),
    ("flemish", "nl"),
    ("arabic", "ar"),
    ("swedish", "sv"),
    ("italian", "it"),
    ("indonesian", "id"),
    ("hindi", "hi"),
    ("finnish", "fi"),
    ("vietnamese", "vi"),
    ("hebrew", "he"),
    ("ukrainian", "uk"),
    ("greek", "el"),
    ("malay", "ms"),
    ("czech", "cs"),
    ("romanian", "ro"),
    ("moldavian", "ro"),
    ("moldovan", "ro"),
    ("danish", "da"),
    ("hungarian", "hu"),
    ("tamil", "ta"),
    ("norwegian", "no"),
    ("thai", "th"),
    ("urdu", "ur"),
    ("croatian", "hr"),
    ("bulgarian", "bg"),
    ("lithuanian", "lt"),
    ("latin", "la"),
    ("maori", "mi"),
    ("malayalam", "ml"),
    ("welsh", "cy"),
    ("slovak", "sk"),
    ("telugu", "te"),
    ("persian", "fa"),
    ("latvian", "lv"),
    ("bengali", "bn"),
    ("serbian", "sr"),
    ("azerbaijani", "az"),
    ("slovenian", "sl"),
    ("kannada", "kn"),
    ("estonian", "et"),
    ("macedonian", "mk"),
    ("breton", "br"),
    ("basque", "eu"),
    ("icelandic", "is"),
    ("armenian", "hy"),
    ("nepali", "ne"),
    ("mongolian", "mn"),
    ("bosnian", "bs"),
    ("kazakh", "kk"),
    ("albanian", "sq"),
    ("swahili", "sw"),
    ("galician", "gl"),
    ("marathi", "mr"),
    ("punjabi", "pa"),
    ("panjabi", "pa"),
    ("sinhala", "si"),
    ("sinhalese", "si"),
    ("khmer", "km"),
    ("shona", "sn"),
    ("yoruba", "yo"),
    ("somali", "so"),
    ("afrikaans", "af"),
    ("occitan", "oc"),
    ("georgian", "ka"),
    ("belarusian", "be"),
    ("tajik", "tg"),
    ("sindhi", "sd"),
    ("gujarati", "gu"),
    ("amharic", "am"),
    ("yiddish", "yi"),
    ("lao", "lo"),
    ("uzbek", "uz"),
    ("faroese", "fo"),
    ("haitian creole", "ht"),
    ("haitian", "ht"),
    ("pashto", "ps"),
    ("pushto", "ps"),
    ("turkmen", "tk"),
    ("nynorsk", "nn"),
    ("maltese", "mt"),
    ("sanskrit", "sa"),
    ("luxembourgish", "lb"),
    ("letzeburgesch", "lb"),
    ("myanmar", "my"),
    ("burmese", "my"),
    ("tibetan", "bo"),
    ("tagalog", "tl"),
    ("filipino", "tl"),
    ("malagasy", "mg"),
    ("assamese", "as"),
    ("tatar", "tt"),
    ("hawaiian", "haw"),
    ("lingala", "ln"),
    ("hausa", "ha"),
    ("bashkir", "ba"),
    ("javanese", "jv"),
    ("sundanese", "su"),
    ("cantonese", "yue"),
];

/// The ISO 639-1 code for a language name (`English`), a code (`en`) or a tag (`en-US`);
/// `None` for an empty or unknown value.
pub(crate) fn to_code(value: &str) -> Option<String> {
    let value = value.trim().to_lowercase();
    if let Some((_, code)) = NAMES.iter().find(|(name, _)| *name == value) {
        return Some((*code).to_owned());
    }
    let primary = value.split(['-', '_']).next().unwrap_or_default();
    let is_code =
        (2..=3).contains(&primary.len()) && primary.chars().all(|c| c.is_ascii_lowercase());
    match primary {
        "jw" => Some("jv".to_owned()),
        _ if is_code => Some(primary.to_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::to_code;

    #[test]
    fn names_codes_and_tags_become_codes() {
        assert_eq!(to_code("english").as_deref(), Some("en"));
        assert_eq!(to_code(" English ").as_deref(), Some("en"));
        assert_eq!(to_code("haitian creole").as_deref(), Some("ht"));
        assert_eq!(to_code("lao").as_deref(), Some("lo"));
        assert_eq!(to_code("de").as_deref(), Some("de"));
        assert_eq!(to_code("en-US").as_deref(), Some("en"));
        assert_eq!(to_code("pt_BR").as_deref(), Some("pt"));
        assert_eq!(to_code("jw").as_deref(), Some("jv"));
        assert_eq!(to_code("yue").as_deref(), Some("yue"));
        assert_eq!(to_code(""), None);
        assert_eq!(to_code("klingonese"), None);
    }
}
