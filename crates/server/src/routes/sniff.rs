//! Telling a video or audio file from anything else by its first bytes, before storing it:
//! a mistaken upload (a PDF, a photo, a text file) is refused at once instead of failing in
//! the ingest job minutes later.

/// Bytes read before deciding: enough for three MPEG-TS packets.
pub const SNIFF_LEN: usize = 3 * 188 + 4;

/// What the formats accepted are, for the error message.
pub const ACCEPTED: &str = "MP4, MOV, M4A, 3GP, MKV, WebM, AVI, MPEG-TS, MPEG-PS, FLV, WMV/ASF, \
    Ogg, WAV, AIFF, MP3, AAC, FLAC";

/// A container recognised by its signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Container {
    /// The extension the stored file gets.
    pub ext: &'static str,
}

const fn c(ext: &'static str) -> Option<Container> {
    Some(Container { ext })
}

/// The container `head` (the file's first bytes, [`SNIFF_LEN`] when the file is that
/// long) starts, or `None` when it is not a video or audio file clipforge can read.
pub fn sniff(head: &[u8]) -> Option<Container> {
    let at = |offset: usize, sig: &[u8]| head.get(offset..offset + sig.len()) == Some(sig);
    // ISO base media (MP4, MOV, M4A, 3GP): a box size, then the box type. QuickTime files
    // may open with other top-level atoms than `ftyp`.
    if head.len() >= 8 {
        let kind = &head[4..8];
        if kind == b"ftyp" {
            return if at(8, b"qt  ") { c("mov") } else { c("mp4") };
        }
        if [b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"]
            .iter()
            .any(|k| kind == *k)
        {
            return c("mov");
        }
    }
    if at(0, &[0x1a, 0x45, 0xdf, 0xa3]) {
        let webm = head.windows(4).any(|w| w == b"webm");
        return if webm { c("webm") } else { c("mkv") };
    }
    if at(0, b"RIFF") {
        if at(8, b"AVI ") {
            return c("avi");
        }
        if at(8, b"WAVE") {
            return c("wav");
        }
        return None;
    }
    if at(0, b"FORM") && (at(8, b"AIFF") || at(8, b"AIFC")) {
        return c("aiff");
    }
    if at(0, &[0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11]) {
        return c("wmv");
    }
    if at(0, b"FLV\x01") {
        return c("flv");
    }
    if at(0, b"OggS") {
        return c("ogg");
    }
    if at(0, b"fLaC") {
        return c("flac");
    }
    if at(0, b"ID3") {
        return c("mp3");
    }
    if at(0, &[0, 0, 1, 0xba]) {
        return c("mpg");
    }
    if transport_stream(head, 0, 188) {
        return c("ts");
    }
    // Blu-ray M2TS: a 4-byte timestamp before each 188-byte packet.
    if transport_stream(head, 4, 192) {
        return c("m2ts");
    }
    // MPEG audio frame sync: eleven set bits. Layer bits `00` are reserved, which leaves
    // ADTS AAC (layer 0) apart from MP3.
    if head.len() >= 4 && head[0] == 0xff && (head[1] & 0xe0) == 0xe0 {
        let layer = (head[1] >> 1) & 0b11;
        let version = (head[1] >> 3) & 0b11;
        if (head[1] & 0xf6) == 0xf0 {
            return c("aac");
        }
        if layer != 0 && version != 0b01 && (head[2] >> 4) != 0xf {
            return c("mp3");
        }
    }
    None
}

/// Whether `head` holds MPEG-TS sync bytes every `stride` bytes from `first`, in every
/// packet it reaches (at least two).
fn transport_stream(head: &[u8], first: usize, stride: usize) -> bool {
    let syncs: Vec<u8> = (first..head.len())
        .step_by(stride)
        .map(|i| head[i])
        .collect();
    syncs.len() >= 2 && syncs.iter().all(|&b| b == 0x47)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn padded(start: &[u8]) -> Vec<u8> {
        let mut v = start.to_vec();
        v.resize(SNIFF_LEN, 0x00);
        v
    }

    fn ext(head: &[u8]) -> Option<&'static str> {
        sniff(head).map(|c| c.ext)
    }

    #[test]
    fn containers_are_known_by_their_signatures() {
        assert_eq!(
            ext(&padded(b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00")),
            Some("mp4")
        );
        assert_eq!(ext(&padded(b"\x00\x00\x00\x14ftypqt  ")), Some("mov"));
        assert_eq!(ext(&padded(b"\x00\x00\x00\x08wide")), Some("mov"));
        assert_eq!(
            ext(&padded(
                b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm"
            )),
            Some("webm")
        );
        assert_eq!(
            ext(&padded(b"\x1a\x45\xdf\xa3\x9f\x42\x82\x88matroska")),
            Some("mkv")
        );
        assert_eq!(ext(&padded(b"RIFF\x10\x00\x00\x00AVI LIST")), Some("avi"));
        assert_eq!(ext(&padded(b"RIFF\x10\x00\x00\x00WAVEfmt ")), Some("wav"));
        assert_eq!(ext(&padded(b"RIFF\x10\x00\x00\x00WEBPVP8 ")), None);
        assert_eq!(ext(&padded(b"FLV\x01\x05")), Some("flv"));
        assert_eq!(ext(&padded(b"OggS\x00\x02")), Some("ogg"));
        assert_eq!(ext(&padded(b"fLaC\x00\x00\x00\x22")), Some("flac"));
        assert_eq!(ext(&padded(b"ID3\x04\x00")), Some("mp3"));
        assert_eq!(ext(&padded(b"\xff\xfb\x90\x64")), Some("mp3"));
        assert_eq!(ext(&padded(b"\xff\xf1\x50\x80")), Some("aac"));
        assert_eq!(ext(&padded(b"\x00\x00\x01\xba\x44")), Some("mpg"));
        assert_eq!(ext(&padded(b"FORM\x00\x00\x00\x10AIFF")), Some("aiff"));
        let mut ts = vec![0u8; SNIFF_LEN];
        for i in (0..ts.len()).step_by(188) {
            ts[i] = 0x47;
        }
        assert_eq!(ext(&ts), Some("ts"));
    }

    #[test]
    fn other_files_are_not_media() {
        assert_eq!(ext(b"hello, this is a text file\n"), None);
        assert_eq!(ext(&padded(b"%PDF-1.7\n")), None);
        assert_eq!(ext(&padded(b"\x89PNG\r\n\x1a\n")), None);
        assert_eq!(ext(&padded(b"\xff\xd8\xff\xe0\x00\x10JFIF")), None);
        assert_eq!(ext(&padded(b"PK\x03\x04")), None);
        assert_eq!(ext(&padded(b"GIF89a")), None);
        assert_eq!(ext(b""), None);
        // One sync byte is not a transport stream.
        assert_eq!(ext(b"G"), None);
    }
}
