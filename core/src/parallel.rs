//! Row-parallel loops for the pre- and post-processing of big photos, on scoped threads.

/// Calls `f(first_row, rows)` on `dst` cut into at most `threads` runs of whole rows of
/// `row_len` elements; the calling thread takes the first run. `threads` 0 or 1 runs it inline.
pub(crate) fn for_row_chunks<T: Send>(
    dst: &mut [T],
    row_len: usize,
    threads: usize,
    f: impl Fn(usize, &mut [T]) + Sync,
) {
    let rows = dst.len().checked_div(row_len).unwrap_or(0);
    let threads = threads.clamp(1, rows.max(1));
    if threads == 1 {
        f(0, dst);
        return;
    }
    let per_chunk = rows.div_ceil(threads);
    std::thread::scope(|scope| {
        let mut chunks = dst.chunks_mut(per_chunk * row_len).enumerate();
        let first = chunks.next();
        for (i, chunk) in chunks {
            let f = &f;
            scope.spawn(move || f(i * per_chunk, chunk));
        }
        if let Some((_, chunk)) = first {
            f(0, chunk);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_is_visited_once_with_its_index() {
        for threads in [0, 1, 2, 3, 8, 50] {
            let mut rows = vec![0usize; 7 * 5];
            for_row_chunks(&mut rows, 5, threads, |first, chunk| {
                for (k, row) in chunk.chunks_mut(5).enumerate() {
                    row.iter_mut().for_each(|v| *v += first + k + 1);
                }
            });
            let expected: Vec<usize> = (0..7).flat_map(|r| [r + 1; 5]).collect();
            assert_eq!(rows, expected, "{threads} threads");
        }
    }

    #[test]
    fn an_empty_buffer_is_fine() {
        let mut empty: Vec<u8> = vec![];
        for_row_chunks(&mut empty, 3, 4, |_, chunk| assert!(chunk.is_empty()));
    }
}
