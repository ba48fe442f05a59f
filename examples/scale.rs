//! The in-memory fast path at scale: reads a deliveries file into columns, then values it and
//! totals it by client, timing each run; prints the best time, the peak resident memory and
//! (with `--out`) the totals by client as `client,amount`. The rejections, made on first use,
//! are then made once, untimed by the runs: their count, the time it took and the peak memory
//! after them are printed too.
//!
//! `--threads` takes one count or several (`1,2`): with several, the runs take them in turn
//! (1, 2, 1, 2, …), so that a busy moment of the machine falls on each alike, and one line is
//! printed per count. The totals must agree across the counts. The peak memory printed is the
//! process's over all its runs: for one count's own, run that count alone.
//!
//! With `--serve`, it loads the file, prints `ready`, and then runs once for each line of its
//! standard input (a thread count), printing that run's seconds; at the end of the input, the
//! lines above for the counts it was asked for. A benchmark can so take turns between this
//! and another program, run by run.
//!
//! ```sh
//! cargo run --release --example scale -- --tables bench-data/tables-flat \
//!     --deliveries bench-data/deliveries.csv --threads 1,2 --runs 5 [--out totals.csv] [--serve]
//! ```

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use aidcost::columnar::{value_by_client, ByClient, ColumnarOptions, Columns};
use aidcost::{Catalog, Context, CsvOptions, PriceBook};

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut tables = PathBuf::from("bench-data/tables-flat");
    let mut deliveries = PathBuf::from("bench-data/deliveries.csv");
    let mut threads = vec![1usize];
    let mut runs = 5usize;
    let mut out: Option<PathBuf> = None;
    let mut serve = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--tables" => tables = val()?.into(),
            "--deliveries" => deliveries = val()?.into(),
            "--threads" => {
                threads = val()?
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()?;
            }
            "--runs" => runs = val()?.parse()?,
            "--out" => out = Some(val()?.into()),
            "--serve" => serve = true,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let catalog = Catalog::shipped()?;
    let book = PriceBook::load_dir(&tables, &catalog)?;
    let started = Instant::now();
    let columns = Columns::read_csv(&deliveries, CsvOptions::detect(), &catalog)?
        .ok_or("the file needs the general reader")?;
    let load = started.elapsed();
    let cx = Context {
        catalog: &catalog,
        book: &book,
        clients: None,
    };
    let mut best: Vec<Duration> = Vec::new();
    // The last result of each count; all must agree.
    let mut last: Vec<Option<ByClient>> = Vec::new();
    let mut counts: Vec<usize> = Vec::new();
    let mut run = |t: usize| -> Result<Duration, Box<dyn std::error::Error>> {
        let started = Instant::now();
        let r = value_by_client(&columns, cx, ColumnarOptions::threads(t))?;
        let took = started.elapsed();
        let k = match counts.iter().position(|&c| c == t) {
            Some(k) => k,
            None => {
                counts.push(t);
                best.push(Duration::MAX);
                last.push(None);
                counts.len() - 1
            }
        };
        best[k] = best[k].min(took);
        // Drop the count's previous result before keeping this one.
        last[k] = None;
        last[k] = Some(r);
        Ok(took)
    };
    if serve {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "ready")?;
        stdout.flush()?;
        for line in std::io::stdin().lines() {
            let t: usize = line?.trim().parse()?;
            writeln!(stdout, "{:.6}", run(t)?.as_secs_f64())?;
            stdout.flush()?;
        }
    } else {
        for _ in 0..runs.max(1) {
            for &t in &threads {
                run(t)?;
            }
        }
    }
    let mut last = last.into_iter().flatten();
    let first = last.next();
    if let Some(f) = &first {
        for (r, t) in last.zip(counts.iter().skip(1)) {
            if f.total() != r.total() || f.by_client() != r.by_client() {
                return Err(
                    format!("{t} threads: the totals differ from the first count's").into(),
                );
            }
        }
    }
    let r = first.ok_or("no thread count")?;
    let rss = peak_rss_kib().unwrap_or(0);
    // The rejections are made on first use: once here, outside the timed runs and after
    // the peak memory above, with their own time and the peak memory after them.
    let started = Instant::now();
    let rejections = r.rejections().len();
    let made = started.elapsed();
    let rss_after = peak_rss_kib().unwrap_or(0);
    for (t, best) in counts.iter().zip(best) {
        println!(
            "rows {} clients {} threads {t} load {:.3} s best {:.4} s total {} valued {} rejected {} column_bytes {} peak_rss_kib {rss} rejections {rejections} made_in {:.4} s peak_rss_with_them_kib {rss_after}",
            columns.len(),
            columns.clients(),
            load.as_secs_f64(),
            best.as_secs_f64(),
            r.total(),
            r.rows_valued(),
            r.rows_rejected(),
            columns.column_bytes(),
            made.as_secs_f64(),
        );
    }
    if let Some(path) = out {
        let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
        writeln!(w, "client,amount")?;
        for (key, t) in r.by_client() {
            writeln!(w, "{key},{}", t.amount().get().normalize())?;
        }
        w.flush()?;
    }
    Ok(())
}
