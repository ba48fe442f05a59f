//! `aidcost`: the command-line tool of the `aidcost` library, for finance staff and auditors.
//!
//! It only parses arguments, calls the library and formats output; see `docs/cli.md`.
//! Exit status: 0 success, 1 data problems (a rejection under `--strict`, or `check` found
//! problems), 2 usage errors and unreadable or malformed files.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod commands;
mod failure;
mod input;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands::{catalog, check, compare, convert, demo, derive, explain, project, value};

/// Values deliveries of social services to trafficking victims against versioned price tables.
#[derive(Debug, Parser)]
#[command(name = "aidcost", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Value deliveries and total them by provider, client, element, month, …
    Value(value::Args),
    /// The auditor's receipt for one client or household: every figure and where it came from.
    Explain(explain::Args),
    /// Validate price tables, deliveries and the client register, listing every problem.
    Check(check::Args),
    /// The unified package: codes, names, units and the current national price.
    Catalog(catalog::Args),
    /// KPIs, cost per outcome, the base-year comparison and the provider league tables.
    Compare(compare::Args),
    /// A litas amount in euro at the fixed rate 3.45280 (price or benefit rounding).
    Convert(convert::Args),
    /// A project's budget: planned against actual valued cost, absorption, shares.
    Project(project::Args),
    /// Element values derived from staff costs, EU flat rates and time equations, with steps.
    Derive(derive::Args),
    /// Value the built-in synthetic demo data for 2019 and 2024 (needs no files).
    Demo,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Value(args) => value::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Catalog(args) => catalog::run(&args),
        Command::Compare(args) => compare::run(&args),
        Command::Convert(args) => convert::run(&args),
        Command::Project(args) => project::run(&args),
        Command::Derive(args) => derive::run(&args),
        Command::Demo => demo::run(),
    };
    match result {
        Ok(outcome) => outcome.exit_code(),
        Err(failure) => {
            failure.report();
            failure.exit_code()
        }
    }
}
