//! Reading records scattered over the mapping into the cache together.

/// The cache line size of the processors this runs on (x86-64, and arm64's usual one).
const CACHE_LINE: usize = 64;

/// Read one byte of every cache line in the first `max_bytes` of each slice.
///
/// A scan's results are in key order, and records in key order are scattered over a
/// mapping of gigabytes: the first read of each is a cache miss to memory. When the work on
/// one record is longer than the processor looks ahead, the misses of consecutive records
/// come one after the other, each a full memory latency. Reading a batch of them first, in
/// a loop that does nothing else, puts the batch's misses in flight together; the work then
/// finds its records in the cache. On the 2 GiB benchmark snapshot, `extract -A` spent an
/// eighth of its time waiting for the first byte of keys and values before this.
pub fn read_ahead<'s>(slices: impl IntoIterator<Item = &'s [u8]>, max_bytes: usize) {
    let mut read = 0u8;
    for slice in slices {
        let head = &slice[..slice.len().min(max_bytes)];
        // The last byte too: the head's last line may start less than a line after the
        // last byte read.
        let last = head.last().copied().unwrap_or_default();
        read ^= head.iter().step_by(CACHE_LINE).fold(last, |acc, &b| acc ^ b);
    }
    // The reads are the point: keep the compiler from dropping them.
    std::hint::black_box(read);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Any slices and bounds are fine, the empty ones and a bound of zero included.
    #[test]
    fn reads_any_slices() {
        let long = vec![7u8; 100_000];
        let slices: [&[u8]; 4] = [&[], &[1], &long[..65], &long];
        for max_bytes in [0, 1, 64, 1 << 14, usize::MAX] {
            read_ahead(slices, max_bytes);
        }
        read_ahead(std::iter::empty(), 64);
    }
}
