//! Tables in plain CSV read in one pass from bytes to columns: the file streamed in blocks, each
//! block's lines parsed on every core, the parsed pieces then gathered in order. Plain means what
//! most exports are: no quotes (or quotes around a whole field that holds no quote, delimiter or
//! line break), no blank lines, the same number of fields on every line, a header of distinct
//! names without a byte-order mark, and no compression. Each kind of table (`plain_log`,
//! `plain_rfm`) says what its cells must hold; a file that is not plain is `None`, and is read by
//! Polars instead, whose checks name the row at fault.

use std::fs::File;
use std::path::Path;

use rayon::prelude::*;

use crate::error::{ClvError, Result};

/// A table read from plain CSV: each block's lines cut into parts, each part parsed on a core into
/// a piece of the table (room in its columns, or buffers of the piece's own), then gathered.
pub(super) trait PlainTable {
    /// What parses a part's lines, shared by the cores.
    type Parser: Sync;
    /// Where one part's rows go.
    type Piece<'a>: Send
    where
        Self: 'a;
    /// Pieces for a block's `parts` (whole lines each), in order.
    fn pieces(&mut self, parts: &[&[u8]]) -> Vec<Self::Piece<'_>>;
    /// The lines of `part` into `piece`, or `None` at the first line that is not plain.
    fn parse(parser: &Self::Parser, part: &[u8], piece: &mut Self::Piece<'_>) -> Option<()>;
    /// What a block's parsed pieces left to gather into the table, once they are done.
    fn gather(&mut self) -> Result<()>;
}

/// The plain CSV at `path`, `block_bytes` at a time, into the table (and by the parser) `start`
/// makes from the header's names and the number of rows to expect; `None` where the file is not
/// plain or `start` declines its header.
pub(super) fn read_plain<T: PlainTable>(
    path: &Path,
    delimiter: u8,
    block_bytes: usize,
    start: impl FnOnce(&[String], usize) -> Option<(T::Parser, T)>,
) -> Result<Option<T>> {
    let io = |source| ClvError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let file_bytes = file.metadata().map_err(io)?.len() as usize;
    let mut blocks = Blocks::new(file, block_bytes);
    let mut ended = blocks.refill().map_err(io)?;
    // The header whole, however many blocks it takes.
    let header_end = loop {
        if let Some(end) = memchr::memchr(b'\n', blocks.text()) {
            break end;
        }
        if ended {
            return Ok(None);
        }
        let more = blocks.text().len() + block_bytes;
        ended = blocks.fill(more).map_err(io)?;
    };
    let buffer = blocks.text();
    // Gzip and zstd magic numbers: Polars decompresses those.
    if buffer.starts_with(&[0x1f, 0x8b]) || buffer.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Ok(None);
    }
    // Rows expected from the first block's lines, so that the columns grow once or not at all.
    let lines_in_block = memchr::memchr_iter(b'\n', &buffer[header_end + 1..]).count().max(1);
    let body_bytes = buffer.len() - header_end - 1;
    let expected_rows = (file_bytes as f64 / body_bytes.max(1) as f64 * lines_in_block as f64 * 1.02) as usize;
    let Some(names) = header_names(&buffer[..header_end], delimiter) else {
        return Ok(None);
    };
    let Some((parser, mut table)) = start(&names, expected_rows) else {
        return Ok(None);
    };
    blocks.consume(header_end + 1);
    loop {
        let buffer = blocks.text();
        // The block's complete lines; the rest waits for the next block.
        let complete = match ended {
            true => buffer.len(),
            false => buffer.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1),
        };
        let parts = split_at_lines(&buffer[..complete], rayon::current_num_threads() * 4);
        let mut pieces = table.pieces(&parts);
        let plain = parts
            .par_iter()
            .zip(pieces.par_iter_mut())
            .all(|(part, piece)| T::parse(&parser, part, piece).is_some());
        drop(pieces);
        if !plain {
            return Ok(None);
        }
        table.gather()?;
        if ended {
            break;
        }
        blocks.consume(complete);
        ended = blocks.refill().map_err(io)?;
    }
    Ok(Some(table))
}

/// A file read into one buffer, a block at a time, each block by two threads at once: the copy
/// from the page cache and the faults of the buffer's fresh pages (the first block's; later ones
/// reuse them) split between two cores, where one read left the other idle (100,000-customer
/// RFM table: the first 2 MB block took 1.3 ms of a 20 ms `clv fit`).
struct Blocks {
    file: File,
    block_bytes: usize,
    /// Where in the file the next read starts.
    offset: u64,
    /// The buffer; its first `len` bytes are the text not yet consumed. Zeros from the allocator
    /// (fresh pages, not written until a read fills them).
    bytes: Vec<u8>,
    len: usize,
}

impl Blocks {
    fn new(file: File, block_bytes: usize) -> Self {
        Self {
            file,
            block_bytes,
            offset: 0,
            bytes: vec![0; block_bytes],
            len: 0,
        }
    }

    /// The text read and not yet consumed.
    fn text(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// Drops the first `n` bytes of the text (lines parsed), the rest moved to the start.
    fn consume(&mut self, n: usize) {
        self.bytes.copy_within(n..self.len, 0);
        self.len -= n;
    }

    /// Reads the next block: until the text is a block long, or, where what is left of it is
    /// longer (a line longer than a block), a quarter of a block more; true at the file's end.
    fn refill(&mut self) -> std::io::Result<bool> {
        self.fill(self.block_bytes.max(self.len + (self.block_bytes / 4).max(1)))
    }

    /// Reads until the text is `target` bytes long or the file ends; true at the end.
    fn fill(&mut self, target: usize) -> std::io::Result<bool> {
        if self.bytes.len() < target {
            self.bytes.resize(target, 0);
        }
        let Self {
            file,
            offset,
            bytes,
            len,
            ..
        } = self;
        let room = &mut bytes[*len..target];
        let wanted = room.len();
        let (first, second) = room.split_at_mut(wanted / 2);
        let half = first.len();
        let start = *offset;
        let (a, b) = rayon::join(
            || read_at_most(file, first, start),
            || read_at_most(file, second, start + half as u64),
        );
        // A first half cut short by the file's end has nothing after it.
        let read = match a? {
            a if a < half => a,
            a => a + b?,
        };
        *len += read;
        *offset += read as u64;
        Ok(read < wanted)
    }
}

/// Reads `buffer.len()` bytes of `file` from `offset`, or as many as there are before its end.
fn read_at_most(file: &File, buffer: &mut [u8], offset: u64) -> std::io::Result<usize> {
    let mut done = 0;
    while done < buffer.len() {
        match read_at(file, &mut buffer[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

#[cfg(unix)]
fn read_at(file: &File, buffer: &mut [u8], offset: u64) -> std::io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buffer, offset)
}

#[cfg(windows)]
fn read_at(file: &File, buffer: &mut [u8], offset: u64) -> std::io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buffer, offset)
}

/// The names in a plain header: UTF-8, quoted at most as fields are (`unquoted`), no byte-order
/// mark, no name twice.
fn header_names(header: &[u8], delimiter: u8) -> Option<Vec<String>> {
    let header = header.strip_suffix(b"\r").unwrap_or(header);
    let header = std::str::from_utf8(header).ok()?;
    if header.starts_with('\u{feff}') {
        return None;
    }
    let names = header
        .split(delimiter as char)
        .map(|name| unquoted(name.as_bytes()).and_then(|n| std::str::from_utf8(n).ok()))
        .collect::<Option<Vec<&str>>>()?;
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return None;
        }
    }
    Some(names.iter().map(|n| n.to_string()).collect())
}

/// Which fields of a line a table reads, into `N` cells.
#[derive(Debug, Clone)]
pub(super) struct Cells<const N: usize> {
    delimiter: u8,
    /// Fields on every line.
    fields: usize,
    /// For each field of a line, the cell it goes into, or `N` where none reads it.
    cell_of_field: Vec<usize>,
}

impl<const N: usize> Cells<N> {
    /// Cells of lines of `fields` fields, cell k holding field `wanted[k]` (empty where `None`).
    pub(super) fn new(delimiter: u8, fields: usize, wanted: [Option<usize>; N]) -> Self {
        let mut cell_of_field = vec![N; fields];
        for (cell, field) in wanted.iter().enumerate() {
            if let Some(slot) = field.and_then(|f| cell_of_field.get_mut(f)) {
                *slot = cell;
            }
        }
        Self {
            delimiter,
            fields,
            cell_of_field,
        }
    }

    /// Each line of `part` as its cells, to `row`; `None` at the first line that is not plain or
    /// that `row` refuses. One SIMD sweep finds every delimiter and line end (`Separators`).
    pub(super) fn for_each_line<'a>(
        &self,
        part: &'a [u8],
        mut row: impl FnMut(&[&'a [u8]; N]) -> Option<()>,
    ) -> Option<()> {
        let mut cells: [&'a [u8]; N] = [b""; N];
        let (mut start, mut index) = (0, 0);
        // A last line without its line end ends at the end of the part.
        let unterminated = (!part.is_empty() && !part.ends_with(b"\n")).then_some(part.len());
        // Fields are looked at for quotes only when the part has one (one SIMD sweep).
        let quoted = memchr::memchr(b'"', part).is_some();
        for end in Separators::new(part, self.delimiter).chain(unterminated) {
            let line_ends = end == part.len() || part[end] == b'\n';
            let mut field = &part[start..end];
            if line_ends {
                field = field.strip_suffix(b"\r").unwrap_or(field);
            }
            if quoted {
                field = unquoted(field)?;
            }
            if let Some(&cell) = self.cell_of_field.get(index) {
                if let Some(slot) = cells.get_mut(cell) {
                    *slot = field;
                }
            }
            index += 1;
            start = end + 1;
            if !line_ends {
                continue;
            }
            if index != self.fields {
                return None;
            }
            index = 0;
            row(&cells)?;
        }
        Some(())
    }
}

/// The positions of the delimiter and of `\n` in a text, in order. Each 64 bytes are compared
/// with both in four 16-byte vector compares, into one bit mask whose set bits are then read off
/// one by one: a field is a few bytes long, and a search restarted after each one (memchr2, as
/// this was before) spends more on restarting than on searching (the 100,000-customer table,
/// 4.9 MB: 2.8 ms for memchr2's positions, 0.9 ms for these, on one core).
struct Separators<'a> {
    text: &'a [u8],
    delimiter: u8,
    /// Where the bytes of `mask` start, and where the next 64 do.
    base: usize,
    next: usize,
    /// The separators among the 64 bytes from `base` not yet returned, as bits.
    mask: u64,
}

impl<'a> Separators<'a> {
    fn new(text: &'a [u8], delimiter: u8) -> Self {
        Self {
            text,
            delimiter,
            base: 0,
            next: 0,
            mask: 0,
        }
    }

    /// The separators among up to 64 `bytes`, as bits from the lowest.
    fn mask_of(&self, bytes: &[u8]) -> u64 {
        use wide::u8x16;
        let (delimiter, line_end) = (u8x16::splat(self.delimiter), u8x16::splat(b'\n'));
        let mut mask = 0u64;
        for (k, sixteen) in bytes.chunks(16).enumerate() {
            let mut lanes = [0u8; 16];
            lanes[..sixteen.len()].copy_from_slice(sixteen);
            let v = u8x16::new(lanes);
            let found = (v.simd_eq(delimiter) | v.simd_eq(line_end)).to_bitmask();
            // Lanes past a short tail are zeros, which match neither (unless the delimiter is 0).
            let valid = if sixteen.len() == 16 {
                u32::MAX
            } else {
                (1u32 << sixteen.len()) - 1
            };
            mask |= u64::from(found & valid) << (16 * k);
        }
        mask
    }
}

impl Iterator for Separators<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            if self.next >= self.text.len() {
                return None;
            }
            let end = (self.next + 64).min(self.text.len());
            self.mask = self.mask_of(&self.text[self.next..end]);
            self.base = self.next;
            self.next = end;
        }
        let bit = self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        Some(self.base + bit)
    }
}

/// Lines in `part`, the last one counted whether or not it ends with a line end.
pub(super) fn count_lines(part: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', part).count() + usize::from(!part.is_empty() && !part.ends_with(b"\n"))
}

/// `slots` cut into consecutive runs of `lengths[i]` each (shorter where the slots run out).
pub(super) fn runs<'a, T>(mut slots: &'a mut [T], lengths: &[usize]) -> Vec<&'a mut [T]> {
    let mut out = Vec::with_capacity(lengths.len());
    for &n in lengths {
        let taken = std::mem::take(&mut slots);
        let (run, rest) = taken.split_at_mut(n.min(taken.len()));
        out.push(run);
        slots = rest;
    }
    out
}

/// `block` cut into about `n` pieces of whole lines.
fn split_at_lines(block: &[u8], n: usize) -> Vec<&[u8]> {
    let mut pieces = Vec::with_capacity(n);
    let mut rest = block;
    let target = block.len() / n.max(1) + 1;
    while !rest.is_empty() {
        let cut = match rest
            .get(target..)
            .and_then(|tail| tail.iter().position(|&b| b == b'\n'))
        {
            Some(p) => target + p + 1,
            None => rest.len(),
        };
        let (piece, tail) = rest.split_at(cut);
        pieces.push(piece);
        rest = tail;
    }
    pieces
}

/// A field without quotes, or the text inside quotes that wrap the whole field and hold no quote
/// (as some exports write every field); `None` for any other quote, which may hide a delimiter
/// or a line break inside a field.
fn unquoted(field: &[u8]) -> Option<&[u8]> {
    if !field.contains(&b'"') {
        return Some(field);
    }
    let inside = field.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
    (!inside.contains(&b'"')).then_some(inside)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_read_every_byte_once_in_order() {
        use rand::rngs::StdRng;
        use rand::{RngExt, SeedableRng};
        let mut rng = StdRng::seed_from_u64(5);
        let dir = std::env::temp_dir().join(format!("clv-unit-{}-blocks", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bytes");
        // Files of 0 bytes, of one byte, of exact multiples of the block and not; blocks of 1
        // byte up; each time a random share of the text consumed, the rest kept for the next.
        for (size, block) in [(0, 4), (1, 4), (64, 16), (64, 7), (1000, 1), (1000, 33), (5000, 4096)] {
            let text: Vec<u8> = (0..size).map(|_| rng.random::<u8>()).collect();
            std::fs::write(&path, &text).unwrap();
            let mut blocks = Blocks::new(File::open(&path).unwrap(), block);
            let mut seen = Vec::new();
            let mut ended = blocks.refill().unwrap();
            loop {
                let n = match ended {
                    true => blocks.text().len(),
                    false => rng.random_range(0..=blocks.text().len()),
                };
                seen.extend_from_slice(&blocks.text()[..n]);
                blocks.consume(n);
                if ended {
                    break;
                }
                ended = blocks.refill().unwrap();
            }
            assert_eq!(seen, text, "{size} bytes in blocks of {block}");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn separators_are_every_delimiter_and_line_end_in_order() {
        use rand::rngs::StdRng;
        use rand::{RngExt, SeedableRng};
        let mut rng = StdRng::seed_from_u64(3);
        // Texts of 0 to 300 bytes (whole and partial 16- and 64-byte blocks), dense and sparse in
        // separators, with zeros and bytes above 127 around them; the reference is a plain scan.
        for delimiter in [b',', b';', b'\t', b'|'] {
            for len in (0..=300).chain([1000, 4096]) {
                let dense = rng.random_range(0..2u32) == 0;
                let text: Vec<u8> = (0..len)
                    .map(|_| match rng.random_range(0..if dense { 4u32 } else { 40 }) {
                        0 => delimiter,
                        1 => b'\n',
                        2 => 0,
                        3 => 0xe9,
                        _ => rng.random_range(b'0'..=b'z'),
                    })
                    .collect();
                let expected: Vec<usize> = (0..text.len())
                    .filter(|&i| text[i] == delimiter || text[i] == b'\n')
                    .collect();
                assert_eq!(Separators::new(&text, delimiter).collect::<Vec<_>>(), expected, "{len}");
            }
        }
    }
}
