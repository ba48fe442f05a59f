//! How a command ends: success, data problems (exit 1) or a failure (exit 2).

use std::process::ExitCode;

/// A command that ran to the end: either clean, or it found data problems (already printed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Exit 0.
    Clean,
    /// Exit 1: a rejection under `--strict`, or `check` found problems.
    Problems,
}

impl Outcome {
    pub(crate) fn exit_code(self) -> ExitCode {
        match self {
            Outcome::Clean => ExitCode::SUCCESS,
            Outcome::Problems => ExitCode::from(1),
        }
    }
}

/// A command that could not run: a bad argument or an unreadable or malformed file (exit 2).
#[derive(Debug)]
pub(crate) struct Failure {
    causes: Vec<String>,
}

impl Failure {
    /// A failure with one message.
    pub(crate) fn msg(message: impl Into<String>) -> Self {
        Self {
            causes: vec![message.into()],
        }
    }

    /// Prints `error: <cause>` once per cause on standard error.
    pub(crate) fn report(&self) {
        for c in &self.causes {
            eprintln!("error: {c}");
        }
    }

    pub(crate) fn exit_code(&self) -> ExitCode {
        ExitCode::from(2)
    }
}

/// Every message in an error's chain, skipping a cause already spelled out by its parent.
pub(crate) fn causes(e: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(c) = cur {
        let text = c.to_string();
        if !out.last().is_some_and(|prev| prev.contains(&text)) {
            out.push(text);
        }
        cur = c.source();
    }
    out
}

impl From<aidcost::Error> for Failure {
    fn from(e: aidcost::Error) -> Self {
        Self { causes: causes(&e) }
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Self {
            causes: vec![format!("cannot write output: {e}")],
        }
    }
}

impl From<serde_json::Error> for Failure {
    fn from(e: serde_json::Error) -> Self {
        Self {
            causes: vec![format!("cannot write JSON: {}", e)],
        }
    }
}

impl From<csv::Error> for Failure {
    fn from(e: csv::Error) -> Self {
        Self {
            causes: vec![format!("cannot write CSV: {e}")],
        }
    }
}

/// What every command returns.
pub(crate) type CmdResult = Result<Outcome, Failure>;
