//! Quay's opaque `next_page` tokens: a JSON page token sealed with the instance's key, in the
//! shape of the Fernet tokens Quay issues (`gAAAAAB…`, URL-safe base64), valid for two days.
//! A token that does not open (garbage, another instance's, expired) reads as "no token",
//! which Quay answers with the first page.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

const VERSION: u8 = 0x80;
/// Quay's `_PAGE_TOKEN_TTL`.
const TTL_S: u64 = 2 * 86_400;
/// Fernet's tolerance for tokens from the future.
const MAX_CLOCK_SKEW_S: u64 = 60;
const HEADER: usize = 1 + 8 + 16;
const MAC: usize = 32;

/// A fresh random key for an instance.
pub fn new_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    key
}

/// XORs `data` with a keystream derived from the key and the IV.
fn keystream_xor(key: &[u8; 32], iv: &[u8], data: &mut [u8]) {
    for (block, chunk) in data.chunks_mut(32).enumerate() {
        let mut h = Sha256::new();
        h.update(key);
        h.update(iv);
        h.update((block as u64).to_be_bytes());
        let pad = h.finalize();
        for (b, p) in chunk.iter_mut().zip(pad.iter()) {
            *b ^= p;
        }
    }
}

fn mac(key: &[u8; 32], data: &[u8]) -> Option<HmacSha256> {
    let mut m = HmacSha256::new_from_slice(key).ok()?;
    m.update(data);
    Some(m)
}

/// Seals `payload` (Quay's page-token JSON), issued at `now` (Unix seconds).
pub fn seal(key: &[u8; 32], payload: &str, now: f64) -> String {
    let mut iv = [0u8; 16];
    rand::rng().fill_bytes(&mut iv);
    let mut body = payload.as_bytes().to_vec();
    let pad = 16 - body.len() % 16;
    body.extend(std::iter::repeat_n(pad as u8, pad));
    keystream_xor(key, &iv, &mut body);
    let mut token = Vec::with_capacity(HEADER + body.len() + MAC);
    token.push(VERSION);
    token.extend((now as u64).to_be_bytes());
    token.extend(iv);
    token.extend(body);
    if let Some(m) = mac(key, &token) {
        token.extend(m.finalize().into_bytes());
    }
    URL_SAFE.encode(token)
}

/// Opens a token sealed by [`seal`] with the same key within its lifetime at `now`.
pub fn open(key: &[u8; 32], token: &str, now: f64) -> Option<String> {
    let raw = URL_SAFE.decode(token.trim()).ok()?;
    if raw.len() < HEADER + 16 + MAC
        || raw[0] != VERSION
        || !(raw.len() - HEADER - MAC).is_multiple_of(16)
    {
        return None;
    }
    let (signed, tag) = raw.split_at(raw.len() - MAC);
    mac(key, signed)?.verify_slice(tag).ok()?;
    let issued = u64::from_be_bytes(signed[1..9].try_into().ok()?);
    let now = now as u64;
    if issued + TTL_S < now || now + MAX_CLOCK_SKEW_S < issued {
        return None;
    }
    let mut body = signed[HEADER..].to_vec();
    keystream_xor(key, &signed[9..HEADER], &mut body);
    let pad = usize::from(*body.last()?);
    if pad == 0
        || pad > 16
        || body[body.len() - pad..]
            .iter()
            .any(|b| usize::from(*b) != pad)
    {
        return None;
    }
    body.truncate(body.len() - pad);
    String::from_utf8(body).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_tampering() {
        let key = new_key();
        let payload =
            r#"{"start_index": 7, "page_number": 1, "is_datetime": false, "offset_val": 0}"#;
        let now = 1_795_979_497.0;
        let token = seal(&key, payload, now);
        assert!(token.starts_with("gAAAAA"), "{token}");
        assert_eq!(open(&key, &token, now).as_deref(), Some(payload));
        assert_ne!(seal(&key, payload, now), token, "a fresh IV each time");
        assert_eq!(open(&new_key(), &token, now), None);
        let two_days = (2 * 86_400) as f64;
        assert_eq!(open(&key, &token, now + two_days).as_deref(), Some(payload));
        assert_eq!(open(&key, &token, now + two_days + 1.0), None, "expired");
        assert_eq!(open(&key, &token, now - 61.0), None, "from the future");
        let mut bytes = URL_SAFE.decode(&token).unwrap();
        bytes[HEADER] ^= 1;
        assert_eq!(open(&key, &URL_SAFE.encode(bytes), now), None);
        assert_eq!(open(&key, "garbage", now), None);
        assert_eq!(open(&key, "", now), None);
    }
}
