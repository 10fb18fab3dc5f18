//! `clv predict DIR`: a directory of RFM partitions scored one at a time, into the same layout,
//! resumable and shardable, with the predictions of `clv predict` on the whole table.

mod common;

use std::path::{Path, PathBuf};

use clv::data::rfm::RfmTable;
use polars::prelude::*;

use common::{clv, repo, s, scratch_dir};

/// The CDNOW summary (calibration to 1997-09-30) written whole, as three hive-style partitions
/// (country=DE: 857 customers; country=FR: 1000 and 500) plus Spark's _SUCCESS, and the model
/// `clv fit` fits on the whole: (whole, partitions, model).
fn partitioned(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let whole = dir.join("rfm.parquet");
    let r = clv(&[
        "summarize",
        s(&repo("data/cdnow_sample.csv")),
        "-o",
        s(&whole),
        "--calibration-end",
        "1997-09-30",
    ]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let frame = ParquetReader::new(std::fs::File::open(&whole).unwrap())
        .finish()
        .unwrap();
    let parts = dir.join("rfm");
    for (path, offset, len) in [
        ("country=FR/part-0.parquet", 0, 1000),
        ("country=FR/part-1.parquet", 1000, 500),
        ("country=DE/part-0.parquet", 1500, 857),
    ] {
        let target = parts.join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        let mut part = frame.slice(offset, len);
        ParquetWriter::new(std::fs::File::create(&target).unwrap())
            .finish(&mut part)
            .unwrap();
    }
    std::fs::write(parts.join("_SUCCESS"), "").unwrap();
    let model = dir.join("model.json");
    assert_eq!(clv(&["fit", s(&whole), "-o", s(&model)]).code, Some(0));
    (whole, parts, model)
}

fn read(path: &Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(path).unwrap()).finish().unwrap()
}

/// The scored partitions under `out`, stacked in the whole table's row order.
fn stacked(out: &Path) -> DataFrame {
    let mut together: Option<DataFrame> = None;
    for path in [
        "country=FR/part-0.parquet",
        "country=FR/part-1.parquet",
        "country=DE/part-0.parquet",
    ] {
        let part = read(&out.join(path));
        together = Some(match together {
            None => part,
            Some(acc) => acc.vstack(&part).unwrap(),
        });
    }
    together.unwrap()
}

fn predict(args: &[&str]) -> String {
    let r = clv(&[&["predict"], args].concat());
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    r.stdout
}

#[test]
fn partitions_scored_in_shards_are_the_whole_tables_predictions() {
    let dir = scratch_dir("partitions-shards");
    let (whole, parts, model) = partitioned(&dir);
    let expected = read(&{
        let out = dir.join("whole.parquet");
        predict(&[s(&whole), "--model-file", s(&model), "-o", s(&out)]);
        out
    })
    .drop_many(["value_tier", "clv_percentile", "status"]);

    let out = dir.join("predictions");
    // Shard 1 of 2 is the second partition in path order (country=FR/part-0); shard 0 the others.
    let said = predict(&[s(&parts), "--model-file", s(&model), "-o", s(&out), "--shard", "1/2"]);
    assert!(
        said.contains("3 partitions, shard 1/2: 1 of them; scored 1 (1000 customers)"),
        "{said}"
    );
    let said = predict(&[s(&parts), "--model-file", s(&model), "-o", s(&out), "--shard", "0/2"]);
    assert!(said.contains("scored 2 (1357 customers)"), "{said}");
    // Every partition is there now: a rerun scores nothing.
    let said = predict(&[s(&parts), "--model-file", s(&model), "-o", s(&out)]);
    assert!(
        said.contains("scored 0 (0 customers)") && said.contains("3 already there, skipped"),
        "{said}"
    );

    let together = stacked(&out);
    assert_eq!(together.get_column_names(), expected.get_column_names());
    assert!(
        together.equals_missing(&expected),
        "partitions differ from the whole table"
    );
    assert!(!out.join("_SUCCESS").exists());
}

#[test]
fn partitions_scored_with_intervals_have_the_whole_tables_bounds() {
    // The draws are made once from the seed, so every partition and shard evaluates the same
    // models: each customer's bounds are those of the whole table scored at once.
    let dir = scratch_dir("partitions-intervals");
    let (whole, parts, model) = partitioned(&dir);
    let interval = ["--interval", "0.9", "--draws", "50", "--interval-seed", "3"];
    let expected = read(&{
        let out = dir.join("whole.parquet");
        predict(&[&[s(&whole), "--model-file", s(&model), "-o", s(&out)][..], &interval].concat());
        out
    })
    .drop_many(["value_tier", "clv_percentile", "status"]);
    assert!(expected.column("clv_q95").is_ok() && expected.column("purchases_q05").is_ok());
    let out = dir.join("predictions");
    for shard in ["0/2", "1/2"] {
        let said = predict(
            &[
                &[s(&parts), "--model-file", s(&model), "-o", s(&out), "--shard", shard][..],
                &interval,
            ]
            .concat(),
        );
        assert!(
            said.contains("with its 90% interval from parameter uncertainty (50 draws"),
            "{said}"
        );
    }
    let together = stacked(&out);
    assert_eq!(together.get_column_names(), expected.get_column_names());
    assert!(
        together.equals_missing(&expected),
        "partitions' bounds differ from the whole table's"
    );
}

#[test]
fn a_bad_partition_stops_the_run_and_a_rerun_finishes_it() {
    let dir = scratch_dir("partitions-resume");
    let (_, parts, model) = partitioned(&dir);
    // The second partition in path order is unreadable: the first is written, the rest not.
    let bad = parts.join("country=FR/part-0.parquet");
    let good = std::fs::read(&bad).unwrap();
    std::fs::write(&bad, "customer_id,frequency,recency,T\n1,2,5,3\n").unwrap();
    let out = dir.join("predictions");
    let r = clv(&["predict", s(&parts), "--model-file", s(&model), "-o", s(&out)]);
    assert_eq!(r.code, Some(1), "{}", r.stdout);
    assert!(r.stderr.contains("part-0.parquet"), "names the partition: {}", r.stderr);
    assert!(out.join("country=DE/part-0.parquet").exists());
    let written: Vec<_> = walk(&out);
    assert_eq!(
        written,
        vec!["country=DE/part-0.parquet".to_string()],
        "no partial or temporary file"
    );
    std::fs::write(&bad, good).unwrap();
    let said = predict(&[s(&parts), "--model-file", s(&model), "-o", s(&out)]);
    assert!(
        said.contains("scored 2 (1500 customers)") && said.contains("1 already there, skipped"),
        "{said}"
    );
    let rfm = RfmTable::read(&out.join("country=FR/part-1.parquet"), Some(clv::TimeUnit::Weeks)).unwrap();
    assert_eq!(rfm.len(), 500);
}

#[test]
fn a_directory_of_partitions_is_refused_what_it_cannot_do() {
    let dir = scratch_dir("partitions-refused");
    let (whole, parts, model) = partitioned(&dir);
    let (out, inside) = (dir.join("out"), parts.join("x"));
    let cases: [(Vec<&str>, &str); 5] = [
        (vec![s(&parts), "--model", "bg-nbd", "-o", s(&out)], "give --model-file"),
        (
            vec![s(&parts), "--model-file", s(&model), "-o", s(&inside)],
            "outside the input directory",
        ),
        (
            vec![s(&whole), "--model-file", s(&model), "-o", s(&out), "--shard", "0/2"],
            "--shard splits a directory",
        ),
        (
            vec![s(&parts), "--model-file", s(&model), "-o", s(&out), "--shard", "2/2"],
            "not a shard",
        ),
        (
            vec![
                s(&parts),
                "--model-file",
                s(&model),
                "-o",
                s(&out),
                "--interval",
                "0.9",
                "--bootstrap",
                "20",
            ],
            "--bootstrap refits the models to resamples of a whole table",
        ),
    ];
    for (args, words) in cases {
        let r = clv(&[&["predict"], &args[..]].concat());
        assert_eq!(
            r.code,
            Some(if words == "not a shard" { 2 } else { 1 }),
            "{args:?}: {}",
            r.stderr
        );
        assert!(r.stderr.contains(words), "{args:?}: {}", r.stderr);
    }
    assert!(!out.exists());
}

/// Files under `dir`, as relative paths in order.
fn walk(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path.strip_prefix(dir).unwrap().to_string_lossy().to_string());
            }
        }
    }
    found.sort();
    found
}
