//! Bytes → text. Honours a byte-order mark first, then the encoding named in
//! the XML declaration. Real archives hold UTF-16LE files with a BOM and
//! Windows-1252 text mislabelled as UTF-8; the latter is decoded as
//! Windows-1252 and reported, never silently mangled.

use std::borrow::Cow;

/// The decoded text and what was done to get it.
#[derive(Debug)]
pub struct Decoded<'a> {
    /// The document text, without any byte-order mark.
    pub text: Cow<'a, str>,
    /// Name of the encoding the bytes were read as.
    pub encoding: &'static str,
    /// Set when the bytes did not match their declared encoding and a
    /// fallback was used (a ledger warning).
    pub fallback: Option<String>,
}

/// Why bytes could not be turned into text.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The file holds no bytes.
    #[error("empty file")]
    Empty,
    /// The declared encoding is not one we can read.
    /// (The encoding's canonical name, a spec value; never the
    /// declaration's own text.)
    #[error("unsupported encoding '{0}' declared")]
    Unsupported(String),
    /// The declared encoding is no encoding name known at all (its text is
    /// not repeated: it is document content).
    #[error("unknown encoding declared in the XML declaration")]
    Unknown,
    /// UTF-16 text with an odd number of bytes or unpaired surrogates.
    #[error("malformed UTF-16 at byte {0}")]
    BadUtf16(usize),
}

/// Decode `bytes` into text.
pub fn decode(bytes: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return Ok(utf8_or_fallback(rest, "UTF-8"));
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return utf16(rest, true).map(|t| Decoded {
            text: Cow::Owned(t),
            encoding: "UTF-16LE",
            fallback: None,
        });
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return utf16(rest, false).map(|t| Decoded {
            text: Cow::Owned(t),
            encoding: "UTF-16BE",
            fallback: None,
        });
    }
    // UTF-16 without a BOM: '<' followed by NUL (LE) or NUL then '<' (BE).
    if bytes.len() >= 4 && bytes[0] == b'<' && bytes[1] == 0 && bytes[3] == 0 {
        return utf16(bytes, true).map(|t| Decoded {
            text: Cow::Owned(t),
            encoding: "UTF-16LE",
            fallback: None,
        });
    }
    if bytes.len() >= 4 && bytes[0] == 0 && bytes[1] == b'<' && bytes[2] == 0 {
        return utf16(bytes, false).map(|t| Decoded {
            text: Cow::Owned(t),
            encoding: "UTF-16BE",
            fallback: None,
        });
    }
    match declared_encoding(bytes) {
        None => Ok(utf8_or_fallback(bytes, "UTF-8")),
        Some(enc) => {
            let lower = enc.to_ascii_lowercase();
            match lower.as_str() {
                "utf-8" | "utf8" | "us-ascii" | "ascii" => Ok(utf8_or_fallback(bytes, "UTF-8")),
                // Declared UTF-16 but no BOM and not UTF-16 shaped: the
                // bytes are what they are; read them as UTF-8.
                "utf-16" | "utf-16le" | "utf-16be" => Ok(utf8_or_fallback(bytes, "UTF-8")),
                _ => match encoding_rs::Encoding::for_label(lower.as_bytes()) {
                    Some(e) if e == encoding_rs::WINDOWS_1252 => {
                        let (t, _, _) = e.decode(bytes);
                        Ok(Decoded {
                            text: t,
                            encoding: "windows-1252",
                            fallback: None,
                        })
                    }
                    Some(e) if !e.is_single_byte() && e != encoding_rs::UTF_8 => {
                        Err(DecodeError::Unsupported(e.name().to_string()))
                    }
                    Some(e) => {
                        let (t, _) = e.decode_without_bom_handling(bytes);
                        Ok(Decoded {
                            text: t,
                            encoding: e.name(),
                            fallback: None,
                        })
                    }
                    None => Err(DecodeError::Unknown),
                },
            }
        }
    }
}

fn utf8_or_fallback<'a>(bytes: &'a [u8], label: &'static str) -> Decoded<'a> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Decoded {
            text: Cow::Borrowed(s),
            encoding: label,
            fallback: None,
        },
        Err(e) => {
            let at = e.valid_up_to();
            let (t, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            Decoded {
                text: t,
                encoding: "windows-1252",
                fallback: Some(format!(
                    "bytes are not valid {label} (first bad byte at offset {at}); read as windows-1252"
                )),
            }
        }
    }
}

fn utf16(bytes: &[u8], le: bool) -> Result<String, DecodeError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(DecodeError::BadUtf16(bytes.len() - 1));
    }
    // encoding_rs converts valid UTF-16 many units at a time; only input
    // with an unpaired surrogate takes the loop below, which finds where.
    let enc = if le {
        encoding_rs::UTF_16LE
    } else {
        encoding_rs::UTF_16BE
    };
    if let Some(t) = enc.decode_without_bom_handling_and_without_replacement(bytes) {
        return Ok(t.into_owned());
    }
    let units = bytes.chunks_exact(2).map(|c| {
        if le {
            u16::from_le_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], c[1]])
        }
    });
    let mut out = String::with_capacity(bytes.len() / 2);
    for (i, r) in char::decode_utf16(units).enumerate() {
        match r {
            Ok(c) => out.push(c),
            Err(_) => return Err(DecodeError::BadUtf16(i * 2)),
        }
    }
    Ok(out)
}

/// The `encoding="…"` pseudo-attribute of an XML declaration, if any.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(256)];
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let end = head.windows(2).position(|w| w == b"?>")?;
    let decl = std::str::from_utf8(&head[..end]).ok()?;
    let at = decl.find("encoding")?;
    let rest = decl[at + 8..].trim_start().strip_prefix('=')?.trim_start();
    let quote = rest.chars().next()?;
    if quote != '"' && quote != '\'' {
        return None;
    }
    let rest = &rest[1..];
    let close = rest.find(quote)?;
    Some(rest[..close].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_plain_is_borrowed() {
        let d = decode(b"<a/>").unwrap();
        assert!(matches!(d.text, Cow::Borrowed("<a/>")));
    }

    #[test]
    fn utf16le_bom() {
        let mut b = vec![0xFF, 0xFE];
        for u in "<?xml version=\"1.0\" encoding=\"UTF-16\"?><a>£</a>".encode_utf16() {
            b.extend_from_slice(&u.to_le_bytes());
        }
        let d = decode(&b).unwrap();
        assert_eq!(d.encoding, "UTF-16LE");
        assert!(d.text.ends_with("<a>£</a>"));
    }

    #[test]
    fn latin1_declared() {
        let b = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xa3</a>";
        let d = decode(b).unwrap();
        assert!(d.text.contains("<a>£</a>"));
    }

    #[test]
    fn mislabelled_utf8_falls_back() {
        let b = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><a>\x92</a>";
        let d = decode(b).unwrap();
        assert!(d.text.contains('\u{2019}'));
        assert!(d.fallback.is_some());
    }

    #[test]
    fn utf16_fast_path_matches_char_by_char_decoding() {
        let text =
            "<?xml version=\"1.0\"?>\r\n<a b='\u{e9}'>\u{a3}5 \u{1F600} \u{2019}\u{feff}</a>";
        for le in [true, false] {
            let mut b = Vec::new();
            for u in text.encode_utf16() {
                b.extend_from_slice(&if le { u.to_le_bytes() } else { u.to_be_bytes() });
            }
            assert_eq!(utf16(&b, le).unwrap(), text);
            // An unpaired surrogate is reported at its byte offset.
            let mut bad = b.clone();
            let at = 6;
            let lone: u16 = 0xDC00;
            bad[at..at + 2].copy_from_slice(&if le {
                lone.to_le_bytes()
            } else {
                lone.to_be_bytes()
            });
            assert!(matches!(utf16(&bad, le), Err(DecodeError::BadUtf16(6))));
            // A high surrogate at the very end (the offset counts decoded
            // characters twice, as it always has).
            let mut bad = b.clone();
            let hi: u16 = 0xD800;
            bad.extend_from_slice(&if le {
                hi.to_le_bytes()
            } else {
                hi.to_be_bytes()
            });
            assert!(
                matches!(utf16(&bad, le), Err(DecodeError::BadUtf16(n)) if n == text.chars().count() * 2)
            );
            // Odd length.
            assert!(matches!(
                utf16(&b[..b.len() - 1], le),
                Err(DecodeError::BadUtf16(_))
            ));
        }
    }

    #[test]
    fn empty_is_error() {
        assert!(matches!(decode(b""), Err(DecodeError::Empty)));
    }
}
