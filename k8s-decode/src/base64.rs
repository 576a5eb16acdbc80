//! Standard base64 with padding (what Go's encoding/json writes for `[]byte`).

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn encode(data: &[u8]) -> String {
    // Secrets hold most of a snapshot's bytes, so this runs on hundreds of MB: the output
    // is sized once (padding in place), and each 3-byte group fills its own 4-byte slot,
    // with no capacity check per group.
    let sextet = |n: u32, shift: u32| ALPHABET[(n >> shift) as usize & 63];
    let mut out = vec![b'='; data.len().div_ceil(3) * 4];
    let mut groups = data.chunks_exact(3);
    let mut slots = out.chunks_exact_mut(4);
    for (g, slot) in (&mut groups).zip(&mut slots) {
        let n = (u32::from(g[0]) << 16) | (u32::from(g[1]) << 8) | u32::from(g[2]);
        slot.copy_from_slice(&[sextet(n, 18), sextet(n, 12), sextet(n, 6), sextet(n, 0)]);
    }
    if let Some(slot) = slots.next() {
        let (n, sextets) = match *groups.remainder() {
            [a] => (u32::from(a) << 16, 2),
            [a, b] => ((u32::from(a) << 16) | (u32::from(b) << 8), 3),
            _ => (0, 0),
        };
        for (i, c) in slot.iter_mut().take(sextets).enumerate() {
            *c = sextet(n, 18 - 6 * i as u32);
        }
    }
    String::from_utf8(out).unwrap_or_default() // only ASCII from ALPHABET and '='
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc4648_vectors() {
        let v = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (i, o) in v {
            assert_eq!(super::encode(i.as_bytes()), o);
        }
        assert_eq!(super::encode(&[0xff, 0xfe]), "//4=");
    }

    /// Every length up to 64 and every byte value, against the `base64` crate.
    #[test]
    fn agrees_with_the_base64_crate() {
        use base64::Engine;
        let data: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        for start in 0..8 {
            for len in 0..64 {
                let slice = &data[start..start + len];
                assert_eq!(super::encode(slice), base64::engine::general_purpose::STANDARD.encode(slice));
            }
        }
        assert_eq!(super::encode(&data), base64::engine::general_purpose::STANDARD.encode(&data));
    }
}
