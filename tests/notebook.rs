//! The analysts' notebook (notebooks/cdnow_evaluation.ipynb) must run top to bottom on a fresh
//! machine with the commands its first cell documents. This runs it with the `clv` built for
//! these tests, in the virtualenv `target/python-venv` (`.ci/run` makes it first; made here
//! from notebooks/requirements.txt when it is missing). The notebook asserts the CDNOW holdout
//! facts itself, so a wrong number fails here too.

mod common;

use std::process::Command;

use common::{repo, s, scratch_dir};

#[test]
fn the_cdnow_evaluation_notebook_runs_top_to_bottom() {
    let venv = repo("target/python-venv");
    let python = venv.join("bin").join("python");
    if !python.exists() {
        let made = Command::new("python3").args(["-m", "venv", s(&venv)]).status().unwrap();
        assert!(made.success(), "python3 -m venv {} failed", venv.display());
        let installed = Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "-r",
                s(&repo("notebooks/requirements.txt")),
            ])
            .status()
            .unwrap();
        assert!(installed.success(), "installing notebooks/requirements.txt failed");
    }
    let dir = scratch_dir("notebook");
    let executed = dir.join("executed.ipynb");
    let out = Command::new(&python)
        .arg(repo("notebooks/execute.py"))
        .arg(repo("notebooks/cdnow_evaluation.ipynb"))
        .arg(&executed)
        .env("CLV_BIN", env!("CARGO_BIN_EXE_clv"))
        .env("CLV_NOTEBOOK_OUT", &*dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the notebook failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Every code cell ran and the evaluation's report and figures are in the outputs.
    let text = std::fs::read_to_string(&executed).unwrap();
    let notebook: serde_json::Value = serde_json::from_str(&text).unwrap();
    let code_cells: Vec<&serde_json::Value> = notebook["cells"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["cell_type"] == "code")
        .collect();
    assert!(code_cells.iter().all(|c| c["execution_count"].is_number()));
    assert!(text.contains("1882 transactions by 684 customers in the holdout"));
    assert_eq!(text.matches("image/png").count(), 4);
}
