//! Standard base64 with padding (what Go's encoding/json writes for `[]byte`).

/// Standard base64 with padding. Secrets hold most of a snapshot's bytes, so this runs on
/// hundreds of MB: `base64-simd` encodes them several times faster than a table per 3-byte
/// group did (`extract -A secrets --threads 1` on the 2 GiB benchmark snapshot, 450 MB of
/// YAML: 2.33 s -> 1.76 s), and writes the `String` without validating it again.
pub fn encode(data: &[u8]) -> String {
    base64_simd::STANDARD.encode_to_string(data)
}

/// [`encode`], appended to `out`.
pub(crate) fn encode_into(data: &[u8], out: &mut String) {
    base64_simd::STANDARD.encode_append(data, out);
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

    /// Lengths past the vector widths, with every tail, on pseudo-random bytes.
    #[test]
    fn long_inputs_agree_with_the_base64_crate() {
        use base64::Engine;
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let data: Vec<u8> = (0..70_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        for len in (0..300).chain([1023, 1024, 1025, 4095, 4096, 4097, 65_536, 70_000]) {
            let slice = &data[..len];
            assert_eq!(super::encode(slice), base64::engine::general_purpose::STANDARD.encode(slice), "length {len}");
        }
    }
}
