//! Word lists behind the text features: hooks, emotion, dangling references, endings,
//! fillers and stop words. English only; other languages fall back to the features that
//! do not read words (pauses, pacing, topics, audio energy).

/// Lower-cases a word and strips the punctuation around it ("Don't," → "don't").
pub fn normalize(word: &str) -> String {
    word.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'' && c != '%')
        .trim_matches('\'')
        .to_lowercase()
        .replace('’', "'")
}

/// The normalised words of a text.
pub fn tokens(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(normalize)
        .filter(|w| !w.is_empty())
        .collect()
}

/// Whether `tokens` begins with the words of `phrase`.
pub fn starts_with_phrase(tokens: &[String], phrase: &str) -> bool {
    let mut n = 0;
    for (i, word) in phrase.split(' ').enumerate() {
        if tokens.get(i).map(String::as_str) != Some(word) {
            return false;
        }
        n += 1;
    }
    n > 0
}

/// Whether the words of `phrase` occur consecutively anywhere in `tokens`.
pub fn contains_phrase(tokens: &[String], phrase: &str) -> bool {
    let words: Vec<&str> = phrase.split(' ').collect();
    tokens
        .windows(words.len())
        .any(|w| w.iter().zip(&words).all(|(a, b)| a == b))
}

/// Openers of a question asked to draw the listener in.
pub const QUESTION_OPENERS: &[&str] = &[
    "what if",
    "did you know",
    "have you ever",
    "imagine if",
    "imagine",
    "why do",
    "why does",
    "why is",
    "why are",
    "how do you",
    "how can",
    "what would you",
    "what happens when",
    "what's the one",
    "what is the one",
    "ever wonder",
    "ever wondered",
    "want to know",
];

/// Bold or confident claims.
pub const BOLD_CLAIMS: &[&str] = &[
    "the truth is",
    "here's the thing",
    "here is the thing",
    "let me tell you",
    "the secret",
    "the biggest",
    "one of the most",
    "the most",
    "the number one",
    "the first thing",
    "the hardest",
    "the best advice",
    "the worst advice",
    "the best thing",
    "the worst thing",
    "the worst mistake",
    "the biggest mistake",
    "the simplest",
    "the most important",
    "the only",
    "the real reason",
    "the key",
    "i guarantee",
    "trust me",
    "this changed",
    "this will change",
    "game changer",
    "number one",
    "here's why",
    "here's what",
    "this is why",
    "the one thing",
];

/// Sentences that open a clip well, one per kind of hook: a sentence whose meaning is
/// close to one of these is likely a hook even when it shares none of their words.
pub const HOOK_EXAMPLES: &[&str] = &[
    "Here is something most people get completely wrong.",
    "Nobody tells you this, but it is the most important thing.",
    "This one habit changed my life.",
    "The best advice I ever got was surprisingly simple.",
    "Most people believe this, and they are wrong.",
    "What would you do if you only had one year left?",
    "Why do we keep making the same mistake?",
    "Have you ever wondered why this happens?",
    "Ninety percent of people never do this.",
    "A study found something shocking about how we work.",
    "Researchers discovered something remarkable.",
    "Let me tell you a story about the worst day of my career.",
    "A few years ago, I made a decision that changed everything.",
    "The truth is, it does not work the way you think.",
    "Stop doing this right now.",
    "This is the biggest myth in the whole industry.",
    "Here is the single number that explains it all.",
    "If you remember one thing from this, remember this.",
];

/// Phrases that announce a figure or a finding.
pub const STATISTICS: &[&str] = &[
    "a number",
    "one number",
    "the number",
    "statistic",
    "a study",
    "one study",
    "studies show",
    "research shows",
    "the data",
    "researchers",
    "scientists",
    "on average",
];

/// Claims that go against what the listener believes.
pub const CONTRARIAN: &[&str] = &[
    "wrong",
    "mistake",
    "myth",
    "overrated",
    "unpopular opinion",
    "most people",
    "nobody tells you",
    "nobody talks about",
    "everyone thinks",
    "you've been told",
    "contrary to",
    "the opposite",
    "doesn't work",
    "don't work",
    "backwards",
    "stop doing",
    "is a lie",
    "nobody",
    "no one",
    "never do",
];

/// Openers of a story.
pub const STORY_OPENERS: &[&str] = &[
    "so i was",
    "i remember",
    "one day",
    "last year",
    "years ago",
    "when i was",
    "the first time",
    "true story",
    "let me tell you about",
    "picture this",
    "a few years ago",
    "a couple of years ago",
    "back in",
    "i'll never forget",
    "there was a time",
    "my first",
    "when i started",
    "the day i",
];

/// Words that carry strong feeling or arousal, with a weight (1 strong, 0.5 mild).
pub const EMOTION_WORDS: &[(&str, f64)] = &[
    ("amazing", 1.0),
    ("incredible", 1.0),
    ("insane", 1.0),
    ("crazy", 1.0),
    ("shocking", 1.0),
    ("shocked", 1.0),
    ("terrifying", 1.0),
    ("terrified", 1.0),
    ("devastating", 1.0),
    ("devastated", 1.0),
    ("furious", 1.0),
    ("hate", 1.0),
    ("love", 0.5),
    ("loved", 0.5),
    ("beautiful", 0.5),
    ("brilliant", 1.0),
    ("wow", 1.0),
    ("unbelievable", 1.0),
    ("heartbreaking", 1.0),
    ("horrible", 1.0),
    ("terrible", 1.0),
    ("awful", 1.0),
    ("disaster", 1.0),
    ("panic", 1.0),
    ("panicked", 1.0),
    ("scared", 1.0),
    ("afraid", 0.5),
    ("fear", 1.0),
    ("angry", 1.0),
    ("excited", 1.0),
    ("exciting", 1.0),
    ("thrilled", 1.0),
    ("proud", 0.5),
    ("embarrassed", 1.0),
    ("ashamed", 1.0),
    ("cried", 1.0),
    ("tears", 1.0),
    ("laughed", 0.5),
    ("hilarious", 1.0),
    ("funny", 0.5),
    ("ridiculous", 1.0),
    ("absurd", 1.0),
    ("huge", 0.5),
    ("massive", 0.5),
    ("enormous", 0.5),
    ("dramatically", 0.5),
    ("dangerous", 1.0),
    ("deadly", 1.0),
    ("died", 1.0),
    ("death", 1.0),
    ("killed", 1.0),
    ("fired", 0.5),
    ("broke", 0.5),
    ("bankrupt", 1.0),
    ("lost", 0.5),
    ("failed", 0.5),
    ("failure", 0.5),
    ("success", 0.5),
    ("won", 0.5),
    ("win", 0.5),
    ("dream", 0.5),
    ("nightmare", 1.0),
    ("miracle", 1.0),
    ("perfect", 0.5),
    ("worst", 0.5),
    ("best", 0.5),
    ("powerful", 0.5),
    ("stunning", 1.0),
    ("surprised", 0.5),
    ("surprising", 0.5),
    ("struggle", 0.5),
    ("struggled", 0.5),
    ("pain", 0.5),
    ("painful", 1.0),
    ("hurt", 0.5),
    ("stress", 0.5),
    ("stressed", 0.5),
    ("anxious", 1.0),
    ("anxiety", 1.0),
    ("obsessed", 1.0),
    ("passionate", 0.5),
    ("wild", 0.5),
    ("mind-blowing", 1.0),
    ("blew", 0.5),
    ("honestly", 0.5),
    ("seriously", 0.5),
    ("absolutely", 0.5),
    ("completely", 0.5),
    ("totally", 0.5),
    ("literally", 0.5),
    ("damn", 1.0),
    ("hell", 0.5),
    ("holy", 1.0),
    ("omg", 1.0),
];

/// Written-out laughter and reactions that some engines transcribe.
pub const LAUGHTER: &[&str] = &[
    "haha",
    "hahaha",
    "[laughter]",
    "(laughs)",
    "[laughs]",
    "lol",
];

/// Openers that continue a thought begun in the sentence before: at the start of a clip
/// they dangle, and after the end of one they mean the thought was not finished.
pub const CONTINUATIONS: &[&str] = &[
    "and",
    "but",
    "so",
    "or",
    "because",
    "also",
    "then",
    "which",
    "plus",
    "that's why",
    "as i said",
    "like i said",
    "as i mentioned",
    "like i mentioned",
    "as we said",
    "going back to",
    "back to",
    "in other words",
    "anyway",
    "anyways",
];

/// Openers that point at something outside the sentence or answer someone: they dangle
/// at the start of a clip, but after its end they usually belong to a reply.
pub const REFERENCES: &[&str] = &[
    "it", "this", "that", "those", "these", "he", "she", "they", "him", "her", "them", "there",
    "yes", "no", "yeah", "right", "exactly", "um", "uh", "well", "okay", "ok", "like", "sure",
    "true", "oh", "wow",
];

/// Words that link a clause to what came before ("when", "after").
pub const LINKS: &[&str] = &[
    "when", "after", "before", "because", "if", "since", "while", "then", "once", "until",
];

/// Pronouns that need a referent.
pub const PRONOUNS: &[&str] = &[
    "he", "she", "they", "it", "him", "her", "them", "his", "their", "its", "this", "that",
    "these", "those",
];

/// References to earlier talk anywhere in a clip.
pub const BACK_REFERENCES: &[&str] = &[
    "as i said",
    "like i said",
    "as i mentioned",
    "like i mentioned",
    "i mentioned earlier",
    "we talked about",
    "we discussed",
    "as we discussed",
    "earlier in the",
    "mentioned before",
    "said before",
    "said earlier",
    "talked about earlier",
    "going back to",
];

/// Phrases that close a thought.
pub const CONCLUSIONS: &[&str] = &[
    "that's why",
    "that is why",
    "that's how",
    "so the lesson",
    "the lesson",
    "the bottom line",
    "bottom line",
    "in the end",
    "at the end of the day",
    "the point is",
    "the takeaway",
    "in short",
    "long story short",
    "that's the secret",
    "that's the key",
    "that's what",
    "and that's",
    "which is why",
    "so remember",
    "remember",
    "never again",
    "changed my life",
    "changed everything",
    "the answer is",
    "so if you",
    "if you take one thing",
    "that's it",
    "so that's",
];

/// Words that carry no content when they fill a pause.
pub const FILLERS: &[&str] = &["um", "uh", "erm", "er", "hmm", "mm", "ah", "uhm", "mhm"];

/// Phrases that fill time without content.
pub const FILLER_PHRASES: &[&str] = &[
    "you know",
    "i mean",
    "kind of",
    "sort of",
    "or whatever",
    "and stuff",
    "and so on",
    "or something",
    "stuff like that",
    "you know what i mean",
];

/// Housekeeping that never makes a good clip.
pub const HOUSEKEEPING: &[&str] = &[
    "subscribe",
    "sponsor",
    "sponsored",
    "promo code",
    "link in the description",
    "link below",
    "patreon",
    "like and subscribe",
    "hit the bell",
    "this episode is brought",
    "welcome back to",
    "welcome to the show",
    "thanks for listening",
    "thanks for watching",
    "see you next",
];

/// Common English words that carry no topic.
pub const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "actually",
    "after",
    "again",
    "against",
    "all",
    "almost",
    "also",
    "am",
    "an",
    "and",
    "any",
    "anyway",
    "are",
    "aren't",
    "around",
    "as",
    "at",
    "back",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "can't",
    "could",
    "couldn't",
    "did",
    "didn't",
    "do",
    "does",
    "doesn't",
    "doing",
    "don't",
    "down",
    "during",
    "each",
    "even",
    "ever",
    "every",
    "few",
    "first",
    "for",
    "from",
    "get",
    "gets",
    "getting",
    "go",
    "goes",
    "going",
    "gonna",
    "good",
    "got",
    "had",
    "hadn't",
    "has",
    "hasn't",
    "have",
    "haven't",
    "having",
    "he",
    "he'd",
    "he'll",
    "he's",
    "her",
    "here",
    "here's",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "how's",
    "i",
    "i'd",
    "i'll",
    "i'm",
    "i've",
    "if",
    "in",
    "into",
    "is",
    "isn't",
    "it",
    "it's",
    "its",
    "itself",
    "just",
    "kind",
    "know",
    "last",
    "let",
    "let's",
    "like",
    "little",
    "lot",
    "lots",
    "make",
    "makes",
    "many",
    "maybe",
    "me",
    "mean",
    "might",
    "more",
    "most",
    "much",
    "must",
    "my",
    "myself",
    "need",
    "never",
    "new",
    "next",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "oh",
    "ok",
    "okay",
    "on",
    "once",
    "one",
    "only",
    "or",
    "other",
    "ought",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "people",
    "pretty",
    "really",
    "right",
    "said",
    "same",
    "say",
    "says",
    "see",
    "she",
    "she'd",
    "she'll",
    "she's",
    "should",
    "shouldn't",
    "so",
    "some",
    "something",
    "sort",
    "still",
    "such",
    "sure",
    "take",
    "than",
    "that",
    "that's",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "there's",
    "these",
    "they",
    "they'd",
    "they'll",
    "they're",
    "they've",
    "thing",
    "things",
    "think",
    "this",
    "those",
    "though",
    "through",
    "to",
    "too",
    "two",
    "under",
    "until",
    "up",
    "us",
    "very",
    "want",
    "was",
    "wasn't",
    "way",
    "we",
    "we'd",
    "we'll",
    "we're",
    "we've",
    "well",
    "went",
    "were",
    "weren't",
    "what",
    "what's",
    "when",
    "when's",
    "where",
    "where's",
    "which",
    "while",
    "who",
    "who's",
    "whom",
    "why",
    "why's",
    "will",
    "with",
    "won't",
    "would",
    "wouldn't",
    "yeah",
    "yes",
    "yet",
    "you",
    "you'd",
    "you'll",
    "you're",
    "you've",
    "your",
    "yours",
    "yourself",
    "yourselves",
    "um",
    "uh",
    "thanks",
    "thank",
    "guess",
    "stuff",
    "tell",
    "told",
    "thought",
    "come",
    "came",
    "look",
    "looking",
    "put",
    "used",
    "use",
    "using",
    "year",
    "years",
    "time",
    "times",
    "day",
    "days",
    "three",
    "four",
    "five",
    "ten",
    "hundred",
    "percent",
    "million",
    "billion",
    "thousand",
    "great",
    "big",
    "lot",
    "whole",
    "basically",
    "literally",
    "honestly",
    "totally",
    "definitely",
    "probably",
    "absolutely",
    "exactly",
    "anything",
    "everything",
    "nothing",
    "someone",
    "everyone",
    "nobody",
    "able",
    "bit",
    "better",
    "best",
    "start",
    "started",
    "keep",
    "give",
    "gave",
    "find",
    "found",
    "work",
    "made",
    "part",
    "point",
    "instead",
    "without",
    "within",
    "less",
    "enough",
    "quite",
    "rather",
    "else",
    "another",
    "since",
    "already",
    "around",
    "yourself",
];

/// Whether a normalised word is a stop word.
pub fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.contains(&word)
}

/// Whether a normalised word is, or spells, a figure worth quoting ("95", "95%", "3.5",
/// "million"); small counting words ("two", "five") are too common to count.
pub fn is_number(word: &str) -> bool {
    const NUMBER_WORDS: &[&str] = &[
        "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "hundred",
        "thousand", "million", "billion", "trillion", "percent", "half", "double", "triple",
        "twice", "dozen",
    ];
    word.chars().any(|c| c.is_ascii_digit()) || NUMBER_WORDS.contains(&word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_strips_punctuation_but_keeps_contractions_and_percent() {
        assert_eq!(normalize("Don't,"), "don't");
        assert_eq!(normalize("“Why?”"), "why");
        assert_eq!(normalize("95%."), "95%");
        assert_eq!(normalize("Here’s"), "here's");
        assert_eq!(normalize("..."), "");
    }

    #[test]
    fn phrases_match_whole_words_only() {
        let t = tokens("So, as I said, the truth is simple.");
        assert!(starts_with_phrase(&t, "so"));
        assert!(contains_phrase(&t, "as i said"));
        assert!(contains_phrase(&t, "the truth is"));
        assert!(!contains_phrase(&t, "truth was"));
        assert!(!starts_with_phrase(
            &t,
            "so as i said the truth is simple now"
        ));
    }

    #[test]
    fn numbers_are_recognised() {
        for w in ["95%", "3.5", "1990", "million", "twenty", "percent"] {
            assert!(is_number(w), "{w}");
        }
        assert!(!is_number("one"));
        assert!(!is_number("money"));
    }

    #[test]
    fn every_list_is_normalised() {
        let lists: [&[&str]; 11] = [
            QUESTION_OPENERS,
            BOLD_CLAIMS,
            CONTRARIAN,
            STORY_OPENERS,
            STATISTICS,
            CONTINUATIONS,
            REFERENCES,
            BACK_REFERENCES,
            CONCLUSIONS,
            FILLER_PHRASES,
            HOUSEKEEPING,
        ];
        for list in lists {
            for phrase in list {
                let again = tokens(phrase).join(" ");
                assert_eq!(&again, phrase);
            }
        }
        for (w, _) in EMOTION_WORDS {
            assert_eq!(&normalize(w), w);
        }
    }
}
