//! Percentiles over plain sorted samples: a run has at most a few million
//! latencies, so sorting them is cheaper than getting a histogram's
//! bucketing right, and the figures are exact.

/// Nearest-rank percentile (`p` in 0..=100) of an ascending slice.
pub fn percentile(sorted: &[u32], p: f64) -> Option<u32> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// p50 / p99 / max of some microsecond samples, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Summary {
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
}

impl Summary {
    /// Sorts `micros` in place and summarises it.
    pub fn of_micros(micros: &mut [u32]) -> Summary {
        micros.sort_unstable();
        let ms = |v: Option<u32>| v.map(|us| us as f64 / 1000.0);
        Summary {
            p50_ms: ms(percentile(micros, 50.0)),
            p99_ms: ms(percentile(micros, 99.0)),
            max_ms: ms(micros.last().copied()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), Some(50));
        assert_eq!(percentile(&v, 99.0), Some(99));
        assert_eq!(percentile(&v, 100.0), Some(100));
        assert_eq!(percentile(&v, 0.0), Some(1));
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[7], 99.0), Some(7));
    }

    #[test]
    fn summary_in_ms() {
        let mut v = vec![3000, 1000, 2000];
        let s = Summary::of_micros(&mut v);
        assert_eq!(s.p50_ms, Some(2.0));
        assert_eq!(s.max_ms, Some(3.0));
    }
}
