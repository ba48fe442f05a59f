//! `aidcost convert`: a litas amount in euro, at the fixed rate 3.45280, by a named rule.

use std::io::Write;

use aidcost::{litas_to_euro, ConversionRule, Currency, Litas};

use crate::failure::{CmdResult, Failure, Outcome};

/// Arguments of `aidcost convert`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The currency of the amount (only LTL: litas are converted to euro).
    #[arg(long, value_name = "CURRENCY")]
    from: String,
    /// The amount, e.g. `1540` or `1540.50` (or `1540,50`).
    #[arg(long, value_name = "A", allow_hyphen_values = true)]
    amount: String,
    /// `price` rounds half-up to the cent; `benefit` (wages, pensions, benefits) rounds up, in
    /// the recipient's favour.
    #[arg(long, value_name = "price|benefit", default_value = "price")]
    rule: String,
}

/// Prints the euro amount, and nothing else, on standard output.
pub(crate) fn run(args: &Args) -> CmdResult {
    let currency: Currency = args
        .from
        .to_ascii_uppercase()
        .parse()
        .map_err(|e: aidcost::Error| Failure::msg(format!("--from: {e}")))?;
    if currency != Currency::Ltl {
        return Err(Failure::msg(format!(
            "--from {currency}: only LTL amounts are converted (to EUR)"
        )));
    }
    let rule: ConversionRule = args
        .rule
        .parse()
        .map_err(|e: aidcost::Error| Failure::msg(format!("--rule: {e}")))?;
    let text = if args.amount.contains(',') && !args.amount.contains('.') {
        args.amount.replace(',', ".")
    } else {
        args.amount.clone()
    };
    let amount: Litas = text
        .parse()
        .map_err(|e: aidcost::Error| Failure::msg(format!("--amount: {e}")))?;
    let euro = litas_to_euro(amount, rule)?;
    // Written, not printed: a closed pipe is a failure to report, not a panic.
    let mut out = std::io::stdout().lock();
    writeln!(out, "{euro}")?;
    out.flush()?;
    Ok(Outcome::Clean)
}
