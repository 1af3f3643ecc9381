//! Expiring download links: HMAC-signed app URLs for local files, and SigV4 query
//! signing for S3 links that carry a download file name.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::StorageError;

type HmacSha256 = Hmac<Sha256>;

/// Versioned so a future change of the signed text cannot validate old links by accident.
const LOCAL_SIGNATURE_DOMAIN: &str = "clipforge-file-v1";

/// The text a local link's signature covers; newlines cannot occur in keys or (sanitized)
/// file names, so the fields cannot be shifted into one another.
fn local_message(key: &str, expires: u64, filename: Option<&str>) -> String {
    format!(
        "{LOCAL_SIGNATURE_DOMAIN}\n{key}\n{expires}\n{}",
        filename.unwrap_or("")
    )
}

/// Hex HMAC-SHA256 of a local link's key, expiry (unix seconds) and file name.
pub fn sign_local(secret: &[u8], key: &str, expires: u64, filename: Option<&str>) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(local_message(key, expires, filename).as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Checks a local link's signature in constant time, then its expiry against `now`
/// (unix seconds).
pub fn verify_local(
    secret: &[u8],
    key: &str,
    expires: u64,
    filename: Option<&str>,
    sig: &str,
    now: u64,
) -> Result<(), StorageError> {
    let sig = hex::decode(sig).map_err(|_| StorageError::SignatureInvalid)?;
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(local_message(key, expires, filename).as_bytes());
    // `verify_slice` compares in constant time, so response timing leaks nothing about
    // how much of a forged signature was right.
    mac.verify_slice(&sig)
        .map_err(|_| StorageError::SignatureInvalid)?;
    if now > expires {
        return Err(StorageError::SignatureExpired);
    }
    Ok(())
}

/// A download file name safe to put in a URL and a `Content-Disposition` header:
/// control characters, quotes, backslashes and path separators become `_`.
pub fn sanitize_filename(name: &str) -> String {
    let cleaned: String = name
        .trim()
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '"' | '\\' | '/' | ';') {
                '_'
            } else {
                c
            }
        })
        .take(200)
        .collect();
    let trimmed = cleaned.trim();
    if trimmed.is_empty() || trimmed == "." || trimmed == ".." {
        "download".to_string()
    } else {
        trimmed.to_string()
    }
}

/// The `Content-Disposition` value that makes browsers save as `filename`, with an ASCII
/// fallback and the exact UTF-8 name (RFC 6266).
pub fn content_disposition(filename: &str) -> String {
    let filename = sanitize_filename(filename);
    let ascii: String = filename
        .chars()
        .map(|c| if c.is_ascii() { c } else { '_' })
        .collect();
    format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        aws_encode(&filename)
    )
}

/// Percent-encodes everything but RFC 3986 unreserved characters, as SigV4 requires.
pub(crate) fn aws_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What a SigV4 query-signed GET needs.
pub(crate) struct PresignRequest<'a> {
    /// The object's URL without a query (host style and path as the client addresses it).
    pub url: &'a url::Url,
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub region: &'a str,
    /// Signing time as unix seconds.
    pub now: u64,
    pub expires_in: Duration,
    /// Extra query parameters to sign, e.g. `response-content-disposition`.
    pub extra: &'a [(&'a str, String)],
}

/// Presigns a GET with SigV4 query parameters
/// (<https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html>).
///
/// `object_store`'s `Signer` cannot add `response-content-disposition`, which must be part
/// of the signature, so links that name a download file are signed here.
pub(crate) fn presign_get(req: &PresignRequest<'_>) -> url::Url {
    let datetime = chrono::DateTime::from_timestamp(req.now as i64, 0)
        .expect("the current time fits chrono's range");
    let amz_date = datetime.format("%Y%m%dT%H%M%SZ").to_string();
    let date = datetime.format("%Y%m%d").to_string();
    let scope = format!("{date}/{}/s3/aws4_request", req.region);

    let mut params: Vec<(String, String)> = vec![
        ("X-Amz-Algorithm".into(), "AWS4-HMAC-SHA256".into()),
        (
            "X-Amz-Credential".into(),
            format!("{}/{scope}", req.access_key_id),
        ),
        ("X-Amz-Date".into(), amz_date.clone()),
        ("X-Amz-Expires".into(), req.expires_in.as_secs().to_string()),
        ("X-Amz-SignedHeaders".into(), "host".into()),
    ];
    params.extend(req.extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (aws_encode(k), aws_encode(v)))
        .collect();
    encoded.sort();
    let canonical_query = encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");

    let host = &req.url[url::Position::BeforeHost..url::Position::AfterPort];
    // S3 signs the path exactly as sent (no second encoding).
    let canonical_request = format!(
        "GET\n{}\n{canonical_query}\nhost:{host}\n\nhost\nUNSIGNED-PAYLOAD",
        req.url.path()
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let mut key = hmac(
        format!("AWS4{}", req.secret_access_key).as_bytes(),
        date.as_bytes(),
    );
    for part in [req.region, "s3", "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let signature = hex::encode(hmac(&key, string_to_sign.as_bytes()));

    let mut url = req.url.clone();
    url.set_query(Some(&format!(
        "{canonical_query}&X-Amz-Signature={signature}"
    )));
    url
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn local_signature_round_trips() {
        let sig = sign_local(SECRET, "renders/a/clip.mp4", 2_000, Some("My clip.mp4"));
        assert_eq!(sig.len(), 64);
        verify_local(
            SECRET,
            "renders/a/clip.mp4",
            2_000,
            Some("My clip.mp4"),
            &sig,
            1_999,
        )
        .unwrap();
        // The last valid second is the expiry itself.
        verify_local(
            SECRET,
            "renders/a/clip.mp4",
            2_000,
            Some("My clip.mp4"),
            &sig,
            2_000,
        )
        .unwrap();
    }

    #[test]
    fn local_signature_matches_a_reference_hmac() {
        // printf 'clipforge-file-v1\nk\n1\n' | openssl dgst -sha256 -hmac key
        assert_eq!(
            sign_local(b"key", "k", 1, None),
            "e026b64aca05b22a3004d58943a3cebdf8c7f3cfab56535f641931bba646b094"
        );
    }

    #[test]
    fn local_signature_rejects_every_change() {
        let sig = sign_local(SECRET, "renders/a/clip.mp4", 2_000, Some("a.mp4"));
        let check = |key, expires, filename, sig: &str| {
            verify_local(SECRET, key, expires, filename, sig, 1_000)
        };
        let invalid =
            |r: Result<(), StorageError>| matches!(r, Err(StorageError::SignatureInvalid));
        assert!(invalid(check(
            "renders/b/clip.mp4",
            2_000,
            Some("a.mp4"),
            &sig
        )));
        assert!(invalid(check(
            "renders/a/clip.mp4",
            2_001,
            Some("a.mp4"),
            &sig
        )));
        assert!(invalid(check(
            "renders/a/clip.mp4",
            2_000,
            Some("b.mp4"),
            &sig
        )));
        assert!(invalid(check("renders/a/clip.mp4", 2_000, None, &sig)));
        assert!(invalid(check(
            "renders/a/clip.mp4",
            2_000,
            Some("a.mp4"),
            "zz"
        )));
        assert!(invalid(check(
            "renders/a/clip.mp4",
            2_000,
            Some("a.mp4"),
            &sig[..62]
        )));
        let mut flipped = sig.clone().into_bytes();
        flipped[10] = if flipped[10] == b'0' { b'1' } else { b'0' };
        let flipped = String::from_utf8(flipped).unwrap();
        assert!(invalid(check(
            "renders/a/clip.mp4",
            2_000,
            Some("a.mp4"),
            &flipped
        )));
        let other = verify_local(
            b"another secret",
            "renders/a/clip.mp4",
            2_000,
            Some("a.mp4"),
            &sig,
            1_000,
        );
        assert!(invalid(other));
    }

    #[test]
    fn local_signature_expires() {
        let sig = sign_local(SECRET, "k", 2_000, None);
        assert!(matches!(
            verify_local(SECRET, "k", 2_000, None, &sig, 2_001),
            Err(StorageError::SignatureExpired)
        ));
    }

    #[test]
    fn presign_matches_the_aws_documentation_example() {
        let url = url::Url::parse("https://examplebucket.s3.amazonaws.com/test.txt").unwrap();
        let signed = presign_get(&PresignRequest {
            url: &url,
            access_key_id: "AKIAIOSFODNN7EXAMPLE",
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            region: "us-east-1",
            now: 1_369_353_600, // 2013-05-24T00:00:00Z
            expires_in: Duration::from_secs(86_400),
            extra: &[],
        });
        assert!(
            signed.as_str().ends_with(
                "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
            ),
            "{signed}"
        );
    }

    #[test]
    fn content_disposition_has_ascii_fallback_and_utf8_name() {
        assert_eq!(
            content_disposition("Café \"best\" clip.mp4"),
            "attachment; filename=\"Caf_ _best_ clip.mp4\"; \
             filename*=UTF-8''Caf%C3%A9%20_best_%20clip.mp4"
        );
        assert_eq!(sanitize_filename("../../etc/passwd"), ".._.._etc_passwd");
        assert_eq!(sanitize_filename("  \n "), "download");
    }
}
