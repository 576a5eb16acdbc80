//! Where `extract` writes a stream of objects (stdout or one file): in order, a chunk of
//! objects at a time.

use std::io::{self, IoSlice, Write};

use anyhow::{Context, Result};

use super::process::Item;
use super::Format;

/// Where rendered objects go, in order.
pub(super) enum Sink {
    /// Unbuffered: each chunk of objects is one vectored write of the rendered objects
    /// themselves. Copying them into a buffer first cost a copy of every byte written (the
    /// 2 GiB benchmark writes 632 MB), in the one part of the work done in order.
    Stream { out: Box<dyn Write + Send>, format: Format, count: usize },
    /// One file per object, written by the workers themselves (see the paths made in
    /// `Run::extract`).
    Dir,
}

impl Sink {
    pub(super) fn stream(path: Option<&std::path::Path>, format: Format) -> Result<Sink> {
        // `Send`: whichever worker finishes a chunk next in order writes it (see `pipeline`).
        let mut out: Box<dyn Write + Send> = match path {
            None => Box::new(io::stdout()),
            Some(path) => Box::new(
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .with_context(|| format!("cannot open {}", path.display()))?,
            ),
        };
        if format == Format::Json {
            out.write_all(b"{\n    \"apiVersion\": \"v1\",\n    \"items\": [")?;
        }
        Ok(Sink::Stream { out, format, count: 0 })
    }

    pub(super) fn write(&mut self, items: Vec<Item>) -> Result<()> {
        match self {
            Sink::Stream { out, format, count } => {
                let mut slices = Vec::with_capacity(2 * items.len());
                for item in &items {
                    let separator: &[u8] = match format {
                        Format::Yaml if *count > 0 => b"---\n",
                        Format::Json if *count > 0 => b",\n",
                        Format::Json => b"\n",
                        _ => b"",
                    };
                    slices.push(IoSlice::new(separator));
                    slices.push(IoSlice::new(&item.rendered));
                    *count += 1;
                }
                write_all_vectored(out.as_mut(), &mut slices)?;
            }
            Sink::Dir => {}
        }
        Ok(())
    }

    pub(super) fn finish(self) -> Result<()> {
        if let Sink::Stream { mut out, format, count } = self {
            if format == Format::Json {
                out.write_all(if count > 0 { b"\n    ],\n" } else { b"],\n" })?;
                out.write_all(
                    b"    \"kind\": \"List\",\n    \"metadata\": {\n        \"resourceVersion\": \"\"\n    }\n}\n",
                )?;
            }
            out.flush()?;
        }
        Ok(())
    }
}

/// All of `slices`, in as few writes as the target takes (`Write::write_all_vectored` is
/// not stable yet).
fn write_all_vectored(out: &mut dyn Write, mut slices: &mut [IoSlice<'_>]) -> io::Result<()> {
    // Leading empty slices are dropped first: a write of them alone would return 0, which
    // reads as a target that takes nothing.
    IoSlice::advance_slices(&mut slices, 0);
    while !slices.is_empty() {
        match out.write_vectored(slices) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(written) => IoSlice::advance_slices(&mut slices, written),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes at most `max` bytes a call and is interrupted every other call, as pipes and
    /// signals may do.
    struct Trickle {
        written: Vec<u8>,
        max: usize,
        calls: usize,
    }

    impl Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.write_vectored(&[IoSlice::new(buf)])
        }

        fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
            self.calls += 1;
            if self.calls.is_multiple_of(2) {
                return Err(io::ErrorKind::Interrupted.into());
            }
            let before = self.written.len();
            for buf in bufs {
                let room = self.max - (self.written.len() - before);
                self.written.extend_from_slice(&buf[..buf.len().min(room)]);
            }
            Ok(self.written.len() - before)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn partial_and_interrupted_writes_write_everything_once() {
        let parts: [&[u8]; 6] = [b"", b"---\n", b"a: 1\n", b"", b"---\n", b"b: 2\nc: 3\n"];
        for max in [1, 3, 7, 100] {
            let mut slices: Vec<IoSlice<'_>> = parts.iter().map(|p| IoSlice::new(p)).collect();
            let mut out = Trickle { written: Vec::new(), max, calls: 0 };
            write_all_vectored(&mut out, &mut slices).unwrap();
            assert_eq!(out.written, parts.concat(), "at most {max} bytes a write");
        }
        // Nothing to write is no write at all.
        let mut out = Trickle { written: Vec::new(), max: 0, calls: 0 };
        write_all_vectored(&mut out, &mut [IoSlice::new(b""), IoSlice::new(b"")]).unwrap();
        assert_eq!(out.calls, 0);
    }

    #[test]
    fn a_target_that_takes_nothing_is_an_error() {
        let mut out = Trickle { written: Vec::new(), max: 0, calls: 0 };
        let error = write_all_vectored(&mut out, &mut [IoSlice::new(b"x")]).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::WriteZero);
    }
}
