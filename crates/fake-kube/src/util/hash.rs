//! Deterministic hashing for generated names (pod-template-hash, pod suffixes, UIDs, image digests).
//! FNV-1a is used instead of std's hasher because its output must not change between Rust versions:
//! tests may snapshot generated names.

/// Kubernetes' "safe" alphabet for generated name suffixes (no vowels, no confusable digits).
const SAFE: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

pub fn fnv64(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// `len` characters from the safe alphabet derived from `seed`.
pub fn safe_suffix(seed: &str, len: usize) -> String {
    let mut n = fnv64(seed.as_bytes());
    let mut out = String::with_capacity(len);
    for i in 0..len {
        if i % 12 == 11 {
            n = fnv64(format!("{seed}/{i}").as_bytes());
        }
        out.push(SAFE[(n % SAFE.len() as u64) as usize] as char);
        n /= SAFE.len() as u64;
    }
    out
}

/// 64 lowercase hex characters derived from `seed` (a fake sha256 digest body).
pub fn hex64(seed: &str) -> String {
    (0..4).map(|i| format!("{:016x}", fnv64(format!("{i}:{seed}").as_bytes()))).collect()
}

/// A UUID-shaped identifier derived from `seed`.
pub fn uid(seed: &str) -> String {
    let h = hex64(seed);
    format!("{}-{}-4{}-8{}-{}", &h[0..8], &h[8..12], &h[13..16], &h[17..20], &h[20..32])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_are_stable_and_use_the_safe_alphabet() {
        let a = safe_suffix("app/1", 5);
        assert_eq!(a, safe_suffix("app/1", 5));
        assert_ne!(a, safe_suffix("app/2", 5));
        assert_eq!(a.len(), 5);
        assert!(safe_suffix("x", 30).bytes().all(|b| SAFE.contains(&b)));
    }

    #[test]
    fn uid_has_uuid_shape() {
        let u = uid("seed");
        let parts: Vec<&str> = u.split('-').collect();
        assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), vec![8, 4, 4, 4, 12]);
        assert_eq!(hex64("a").len(), 64);
    }
}
