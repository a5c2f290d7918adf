//! Named random streams: one seed, one independent ChaCha8 generator per concern.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One independent stream per concern, each seeded from (run seed, stream name), so adding
/// draws to one stream (a new fault kind, say) never changes what another draws for a seed.
#[derive(Debug)]
pub struct Streams {
    /// Operations, sessions, images, think times.
    pub workload: ChaCha8Rng,
    /// When crashes, pauses and server restarts happen.
    pub faults: ChaCha8Rng,
    /// Transfer outcomes and slow disks.
    pub network: ChaCha8Rng,
}

impl Streams {
    /// The streams of run `seed`. The fourth stream, `tiebreak`, belongs to the event queue.
    pub fn new(seed: u64) -> Self {
        Streams {
            workload: stream(seed, "workload"),
            faults: stream(seed, "faults"),
            network: stream(seed, "network"),
        }
    }
}

/// The ChaCha8 stream `name` of run `seed`: the name is hashed with FNV-1a, combined with the
/// seed and mixed with SplitMix64. Both functions are fixed here forever, so a seed replays
/// identically across versions of this program.
pub fn stream(seed: u64, name: &str) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(splitmix(seed ^ fnv1a(name.as_bytes())))
}

/// FNV-1a, 64-bit.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// An exponentially distributed delay with the given mean (in any unit), from `rng`.
pub(crate) fn exponential(rng: &mut ChaCha8Rng, mean: f64) -> u64 {
    let u: f64 = rng.gen_range(f64::EPSILON..1.0);
    (-(u.ln()) * mean) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_independent_and_replayable() {
        let a: u64 = stream(7, "workload").gen();
        assert_eq!(a, stream(7, "workload").gen::<u64>());
        assert_ne!(a, stream(7, "faults").gen::<u64>());
        assert_ne!(a, stream(8, "workload").gen::<u64>());
    }

    #[test]
    fn drawing_from_one_stream_leaves_the_others_alone() {
        let mut busy = Streams::new(3);
        for _ in 0..1000 {
            let _: u64 = busy.faults.gen();
        }
        let mut quiet = Streams::new(3);
        assert_eq!(busy.workload.gen::<u64>(), quiet.workload.gen::<u64>());
        assert_eq!(busy.network.gen::<u64>(), quiet.network.gen::<u64>());
    }

    #[test]
    fn exponential_has_roughly_the_mean() {
        let mut rng = stream(1, "t");
        let n = 20_000;
        let sum: u64 = (0..n).map(|_| exponential(&mut rng, 1000.0)).sum();
        let mean = sum as f64 / n as f64;
        assert!((900.0..1100.0).contains(&mean), "{mean}");
    }
}
