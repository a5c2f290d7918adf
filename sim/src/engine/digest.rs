//! The trace digest: one number that changes when anything in a run's history changes.

/// FNV-1a over 64-bit words, folded in processing order. Fixed forever: a digest is
/// compared across builds (baselines, `--check-determinism`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Digest(u64);

impl Digest {
    /// A digest seeded with the run's seed, so two seeds never share a starting point.
    pub fn new(seed: u64) -> Digest {
        let mut d = Digest(0xcbf2_9ce4_8422_2325);
        d.word(seed);
        d
    }

    /// Folds one word in.
    #[inline]
    pub fn word(&mut self, w: u64) {
        self.0 = (self.0 ^ w).wrapping_mul(0x0000_0100_0000_01b3);
    }

    /// The value so far.
    pub fn value(self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_matters() {
        let (mut a, mut b) = (Digest::new(1), Digest::new(1));
        a.word(1);
        a.word(2);
        b.word(2);
        b.word(1);
        assert_ne!(a, b);
        assert_ne!(Digest::new(1), Digest::new(2));
    }
}
