//! Reads the model's answer: the message out of the chat completion, the first JSON object
//! out of the message (bare, fenced or among prose), and checked clips out of the object.

use serde_json::Value;

/// Longest title kept, in characters.
pub(crate) const MAX_TITLE: usize = 80;
/// Longest hook line kept, in characters.
pub(crate) const MAX_HOOK: usize = 120;
/// Longest reason kept, in characters.
pub(crate) const MAX_REASON: usize = 300;
/// `{` positions tried before giving up on finding an object in a long reply.
const MAX_OBJECT_STARTS: usize = 32;

/// What one clip of the answer refers to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Target {
    /// A candidate's id as the model wrote it, like `c3`.
    Candidate(String),
    /// A new range in seconds, not yet snapped: start before end.
    Range(f64, f64),
}

/// One clip of the answer, checked: score within 0–100, texts on one line, trimmed and
/// shortened, `None` where the model gave nothing usable.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ModelClip {
    pub target: Target,
    pub score: f64,
    pub title: Option<String>,
    pub hook: Option<String>,
    pub reason: Option<String>,
}

/// The clips in a chat-completion body, or why there are none worth keeping.
pub(crate) fn answer(body: &[u8]) -> Result<Vec<ModelClip>, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        format!(
            "the server's answer is not JSON ({e}): {}",
            clipforge_net::snippet(body)
        )
    })?;
    let content =
        message_content(&value).ok_or_else(|| match clipforge_net::api_error_message(&value) {
            Some(error) => format!("the server answered with an error: {error}"),
            None => "the answer holds no message".to_owned(),
        })?;
    clips(&content)
}

/// `choices[0].message.content`, a string or (newer servers) a list of text parts.
fn message_content(value: &Value) -> Option<String> {
    let content = value.pointer("/choices/0/message/content")?;
    match content {
        Value::String(text) => Some(text.clone()),
        Value::Array(parts) => Some(
            parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect(),
        ),
        _ => None,
    }
}

/// The checked clips in the model's reply. An empty list is a valid answer; a list none of
/// whose items is usable is not.
pub(crate) fn clips(reply: &str) -> Result<Vec<ModelClip>, String> {
    let object = first_json_object(reply).ok_or_else(|| {
        format!(
            "the reply holds no JSON object: {}",
            clipforge_net::snippet(reply.as_bytes())
        )
    })?;
    let items = object
        .get("clips")
        .and_then(Value::as_array)
        .ok_or_else(|| "the JSON object has no \"clips\" list".to_owned())?;
    let clips: Vec<ModelClip> = items.iter().filter_map(clip).collect();
    if clips.is_empty() && !items.is_empty() {
        return Err(format!(
            "none of the {} clips has a score and either an id or start and end times",
            items.len()
        ));
    }
    if clips.len() < items.len() {
        tracing::debug!(
            dropped = items.len() - clips.len(),
            "clips without a score or target ignored"
        );
    }
    Ok(clips)
}

/// The first JSON object in `reply` that parses: the whole reply, one inside a code fence,
/// or one with prose around it. Reasoning models' `<think>` sections are skipped.
pub(crate) fn first_json_object(reply: &str) -> Option<Value> {
    let reply = reply
        .rfind("</think>")
        .map_or(reply, |at| &reply[at + "</think>".len()..]);
    reply
        .match_indices('{')
        .take(MAX_OBJECT_STARTS)
        .find_map(|(at, _)| {
            // The stream reader stops after one value, so text after it does not matter.
            let mut values = serde_json::Deserializer::from_str(&reply[at..]).into_iter::<Value>();
            match values.next() {
                Some(Ok(value @ Value::Object(_))) => Some(value),
                _ => None,
            }
        })
}

fn clip(item: &Value) -> Option<ModelClip> {
    let score = number(item.get("score")?)?;
    let target = match item.get("id") {
        Some(Value::String(id)) if !id.trim().is_empty() => Target::Candidate(id.trim().to_owned()),
        // `"id": 3` for `c3`.
        Some(Value::Number(n)) => Target::Candidate(format!("c{}", n.as_u64()?)),
        _ => {
            let start = time(item.get("start")?)?;
            let end = time(item.get("end")?)?;
            (start >= 0.0 && end > start).then_some(Target::Range(start, end))?
        }
    };
    Some(ModelClip {
        target,
        score: score.clamp(0.0, 100.0),
        title: item.get("title").and_then(|v| text(v, MAX_TITLE)),
        hook: item.get("hook").and_then(|v| text(v, MAX_HOOK)),
        reason: item.get("reason").and_then(|v| text(v, MAX_REASON)),
    })
}

/// A finite number, or a string holding one (`"85"`, `"85%"`).
fn number(value: &Value) -> Option<f64> {
    let n = match value {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().trim_end_matches('%').trim().parse().ok()?,
        _ => return None,
    };
    n.is_finite().then_some(n)
}

/// Seconds as a number, or a string of seconds or of `m:ss` / `h:mm:ss`.
fn time(value: &Value) -> Option<f64> {
    if let Some(seconds) = number(value) {
        return Some(seconds);
    }
    let text = value.as_str()?.trim();
    if !text.contains(':') {
        return None;
    }
    let mut seconds = 0.0;
    for field in text.split(':') {
        let field: f64 = field.trim().parse().ok()?;
        if !(field.is_finite() && field >= 0.0) {
            return None;
        }
        seconds = seconds * 60.0 + field;
    }
    Some(seconds)
}

/// A string on one line, without surrounding quotes, at most `max` characters (cut at a
/// word with `…`); `None` when nothing is left.
fn text(value: &Value, max: usize) -> Option<String> {
    let flat = value
        .as_str()?
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let quotes: &[char] = &['"', '\'', '“', '”', '‘', '’', '«', '»'];
    let text = flat.trim_matches(quotes).trim();
    (!text.is_empty()).then(|| shorten(text, max))
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let keep: String = text.chars().take(max.saturating_sub(1)).collect();
    // Cut at the last word boundary unless that loses more than half.
    let cut = match keep.rfind(char::is_whitespace) {
        Some(at) if at >= keep.len() / 2 => &keep[..at],
        _ => keep.as_str(),
    };
    let mut out = cut
        .trim_end_matches(|c: char| c.is_whitespace() || ",;:-–".contains(c))
        .to_owned();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn completion(content: &str) -> Vec<u8> {
        json!({
            "id": "chatcmpl-1", "object": "chat.completion", "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn objects_are_found_bare_fenced_and_among_prose() {
        let object = json!({"clips": []});
        for reply in [
            r#"{"clips": []}"#,
            "```json\n{\"clips\": []}\n```",
            "Here you go:\n```\n{\"clips\": []}\n```\nHope this helps! {not json}",
            "Sure {thing}. The answer is {\"clips\": []} as asked.",
            "<think>Maybe {\"clips\": [1]}? No.</think>\n{\"clips\": []}",
        ] {
            assert_eq!(first_json_object(reply), Some(object.clone()), "{reply:?}");
        }
        for reply in [
            "",
            "no json here",
            "{\"clips\": [",
            "[1, 2]",
            "{'clips': []}",
        ] {
            assert_eq!(first_json_object(reply), None, "{reply:?}");
        }
    }

    #[test]
    fn clips_are_checked_and_cleaned() {
        let long_title = "word ".repeat(40);
        let reply = json!({"clips": [
            {"id": " c3 ", "start": 1, "end": 2, "score": 140, "title": "  \"Why rivers\n bend\" ", "hook": "", "reason": "Strong open."},
            {"id": null, "start": "1:02.5", "end": 80.25, "score": "72", "title": long_title},
            {"id": 4, "score": -5},
            {"id": null, "start": 30, "end": 20, "score": 50},
            {"id": "c5", "score": "high"},
            {"title": "no score"},
            "not an object"
        ]})
        .to_string();
        let clips = clips(&reply).unwrap();
        assert_eq!(clips.len(), 3);
        assert_eq!(
            clips[0],
            ModelClip {
                target: Target::Candidate("c3".into()),
                score: 100.0,
                title: Some("Why rivers bend".into()),
                hook: None,
                reason: Some("Strong open.".into()),
            }
        );
        assert_eq!(clips[1].target, Target::Range(62.5, 80.25));
        assert_eq!(clips[1].score, 72.0);
        let title = clips[1].title.as_deref().unwrap();
        assert!(title.chars().count() <= MAX_TITLE, "{title}");
        assert!(title.ends_with("word…"), "{title}");
        assert_eq!(clips[2].target, Target::Candidate("c4".into()));
        assert_eq!(clips[2].score, 0.0);
    }

    #[test]
    fn unusable_replies_say_why() {
        let no_list = clips(r#"{"moments": []}"#).unwrap_err();
        assert!(no_list.contains("\"clips\""), "{no_list}");
        let none_valid = clips(r#"{"clips": [{"id": "c1"}]}"#).unwrap_err();
        assert!(none_valid.contains("none of the 1 clips"), "{none_valid}");
        let prose = clips("I cannot help with that.").unwrap_err();
        assert!(prose.contains("I cannot help"), "{prose}");
        assert_eq!(clips(r#"{"clips": []}"#).unwrap(), []);
    }

    #[test]
    fn the_message_is_taken_out_of_the_completion() {
        let body = completion("```json\n{\"clips\":[{\"id\":\"c1\",\"score\":90}]}\n```");
        assert_eq!(answer(&body).unwrap().len(), 1);
        let parts = json!({"choices": [{"message": {"content": [{"type": "text", "text": "{\"clips\":"}, {"type": "text", "text": "[]}"}]}}]});
        assert_eq!(answer(parts.to_string().as_bytes()).unwrap(), []);
        let error = answer(br#"{"error": {"message": "model is loading"}}"#).unwrap_err();
        assert!(error.contains("model is loading"), "{error}");
        let refused = json!({"choices": [{"message": {"content": null, "refusal": "no"}}]});
        assert!(answer(refused.to_string().as_bytes()).is_err());
        let html = answer(b"<html>502 Bad Gateway</html>").unwrap_err();
        assert!(html.contains("not JSON") && html.contains("502"), "{html}");
    }

    #[test]
    fn shortening_cuts_at_a_word() {
        assert_eq!(shorten("short", 10), "short");
        assert_eq!(shorten("one two three four", 10), "one two…");
        assert_eq!(shorten("abcdefghijklmnop", 5), "abcd…");
        assert_eq!(shorten("one, two", 6), "one…");
    }
}
