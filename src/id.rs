//! Identifiers: [`ElementCode`], [`ClientId`], [`ProviderId`], [`TableId`].
//!
//! Each is a validated, cheaply cloned string (an `Arc<str>`: cloning shares, never
//! allocates). `Display` and `FromStr` are inverses and serde goes through them.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use crate::error::{Error, Result};

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident, $what:literal, $check:path) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Arc<str>);

        impl $name {
            /// Validates `s` and makes an id of it.
            ///
            /// # Errors
            ///
            /// [`Error::Parse`] (or, for clients, [`Error::PersonalCode`]) when `s` breaks the
            /// id's rules.
            pub fn new(s: &str) -> Result<Self> {
                $check(s)?;
                Ok(Self(Arc::from(s)))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = Error;

            fn from_str(s: &str) -> Result<Self> {
                Self::new(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::new(&s).map_err(serde::de::Error::custom)
            }
        }

        #[allow(dead_code)]
        const _: &str = $what;
    };
}

fn refuse(what: &'static str, s: &str, reason: &str) -> Error {
    Error::Parse {
        what,
        value: mask_long_digit_runs(s),
        reason: reason.to_owned(),
    }
}

fn check_element(s: &str) -> Result<()> {
    let b = s.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 32
        && b[0].is_ascii_uppercase()
        && b.iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_');
    if ok {
        Ok(())
    } else {
        Err(refuse(
            "element code",
            s,
            "expected 1 to 32 of A-Z, 0-9 and _, starting with a letter",
        ))
    }
}

fn check_simple(what: &'static str, s: &str) -> Result<()> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'.');
    if ok {
        Ok(())
    } else {
        Err(refuse(
            what,
            s,
            "expected 1 to 64 of letters, digits, '-', '_' and '.'",
        ))
    }
}

fn check_provider(s: &str) -> Result<()> {
    check_simple("provider id", s)
}

fn check_table(s: &str) -> Result<()> {
    check_simple("table id", s)
}

fn check_client(s: &str) -> Result<()> {
    // Personal codes first: no other message may echo one.
    if let Some(code) = find_personal_code(s) {
        return Err(Error::PersonalCode {
            masked: mask_digits(code),
        });
    }
    check_simple("client id", s)
}

/// Digits at least this many in a row may hold a personal code, and are never echoed.
const LONG_DIGIT_RUN: usize = 11;

/// `digits` with all but its last two characters masked.
fn mask_digits(digits: &str) -> String {
    let keep = digits.len().saturating_sub(2);
    digits
        .chars()
        .enumerate()
        .map(|(i, c)| if i < keep { '*' } else { c })
        .collect()
}

/// `s` with every run of 11 or more digits masked but its last two digits, so that an error
/// never echoes a personal code.
fn mask_long_digit_runs(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        out.push_str(&rest[..start]);
        let run_len = rest[start..]
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len() - start);
        let run = &rest[start..start + run_len];
        if run_len >= LONG_DIGIT_RUN {
            out.push_str(&mask_digits(run));
        } else {
            out.push_str(run);
        }
        rest = &rest[start + run_len..];
    }
    out.push_str(rest);
    out
}

/// Whether `digits` (exactly 11 ASCII digits) is a valid Lithuanian personal code: first digit
/// 1–6 (sex and century), a plausible birth date, and the check digit of the official
/// two-pass modulo-11 rule.
pub fn is_lithuanian_personal_code(digits: &str) -> bool {
    let b = digits.as_bytes();
    if b.len() != 11 || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let d: Vec<u32> = b.iter().map(|c| u32::from(c - b'0')).collect();
    if !(1..=6).contains(&d[0]) {
        return false;
    }
    let month = d[3] * 10 + d[4];
    let day = d[5] * 10 + d[6];
    // Month 00 / day 00 are allowed for people whose birth date is unknown.
    if month > 12 || day > 31 {
        return false;
    }
    let pass = |weights: [u32; 10]| -> u32 {
        d[..10].iter().zip(weights).map(|(x, w)| x * w).sum::<u32>() % 11
    };
    let mut check = pass([1, 2, 3, 4, 5, 6, 7, 8, 9, 1]);
    if check == 10 {
        check = pass([3, 4, 5, 6, 7, 8, 9, 1, 2, 3]);
        if check == 10 {
            check = 0;
        }
    }
    check == d[10]
}

/// The first valid personal code in `s`: any 11 digits in a row within a run of 11 or more
/// digits (a longer run may hide a code among other digits).
fn find_personal_code(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i - start >= LONG_DIGIT_RUN {
                let found = (start..=i - LONG_DIGIT_RUN)
                    .map(|w| &s[w..w + LONG_DIGIT_RUN])
                    .find(|window| is_lithuanian_personal_code(window));
                if found.is_some() {
                    return found;
                }
            }
        } else {
            i += 1;
        }
    }
    None
}

id_type!(
    /// The code of a service element in the unified package, such as `SHELTER`.
    ElementCode,
    "element code",
    check_element
);
id_type!(
    /// A client's pseudonym. Never a personal code: an id containing a valid Lithuanian
    /// personal code is refused with [`Error::PersonalCode`].
    ///
    /// ```
    /// use aidcost::ClientId;
    /// assert!(ClientId::new("C19-0001").is_ok());
    /// let err = ClientId::new("39001010000").unwrap_err(); // a valid code (check digit 0)
    /// assert!(err.to_string().contains("personal code"));
    /// ```
    ClientId,
    "client id",
    check_client
);
id_type!(
    /// A service provider, such as `PRV-KAUNAS`.
    ProviderId,
    "provider id",
    check_provider
);
id_type!(
    /// A pricing table's id, such as `lt-national`.
    TableId,
    "table id",
    check_table
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_code_check_digit_follows_the_two_pass_rule() {
        // 3900101000? : weights 1..9,1 over 3,9,0,0,1,0,1,0,0,0 = 3+18+0+0+5+0+7+0+0+0 = 33;
        // 33 mod 11 = 0, so the check digit is 0.
        assert!(is_lithuanian_personal_code("39001010000"));
        assert!(!is_lithuanian_personal_code("39001010001"));
        // 4900101001?: 4+18+0+0+5+0+7+0+0+1 = 35, 35 mod 11 = 2.
        assert!(is_lithuanian_personal_code("49001010012"));
        // First digit 7 is no personal code.
        assert!(!is_lithuanian_personal_code("79001010000"));
        // 3850612000?: 3·1 + 8·2 + 5·3 + 0·4 + 6·5 + 1·6 + 2·7 + 0 + 0 + 0 = 84, 84 mod 11 = 7.
        assert!(is_lithuanian_personal_code("38506120007"));
        // A first pass of 10 goes to the second weights: 3900101011?: first pass
        // 3+18+0+0+5+0+7+0+9+1 = 43, 43 mod 11 = 10; second pass 3·3+9·4+0+0+1·7+0+1·9+0+1·2+1·3
        // = 66, 66 mod 11 = 0.
        assert!(is_lithuanian_personal_code("39001010110"));
        assert!(!is_lithuanian_personal_code("39001010111"));
    }

    #[test]
    fn client_ids_refuse_personal_codes_anywhere_in_the_id() {
        assert!(matches!(
            ClientId::new("39001010000"),
            Err(Error::PersonalCode { .. })
        ));
        let err = ClientId::new("X-49001010012").unwrap_err();
        assert_eq!(
            err.to_string(),
            "client id `*********12` looks like a Lithuanian personal code (11 digits with a valid check digit); use a pseudonym"
        );
        // 11 digits with a wrong check digit, and 12 digits holding no valid code, are
        // pseudonyms.
        assert!(ClientId::new("39001010001").is_ok());
        assert!(ClientId::new("390010100011").is_ok());
        assert!(ClientId::new("C19-0001").is_ok());
    }

    #[test]
    fn ids_refuse_bad_characters() {
        assert!(ElementCode::new("SHELTER").is_ok());
        assert!(ElementCode::new("shelter").is_err());
        assert!(ElementCode::new("1X").is_err());
        assert!(ElementCode::new("").is_err());
        assert!(ProviderId::new("PRV-KAUNAS").is_ok());
        assert!(ProviderId::new("PRV KAUNAS").is_err());
        assert!(TableId::new("lt-national").is_ok());
        assert!(ClientId::new("Jonas Jonaitis").is_err());
    }

    #[test]
    fn personal_codes_are_found_in_longer_digit_runs_and_never_echoed() {
        // A name and a code: refused as a personal code, not for the space, and masked.
        let err = ClientId::new("Jonas 39001010000").unwrap_err();
        assert!(matches!(err, Error::PersonalCode { .. }), "{err}");
        assert!(!err.to_string().contains("390010100"), "{err}");
        // A valid code inside 12 digits, at either end.
        for id in ["C-390010100001", "C-139001010000"] {
            let err = ClientId::new(id).unwrap_err();
            assert!(matches!(err, Error::PersonalCode { .. }), "{id}: {err}");
            assert_eq!(err.to_string().matches('*').count(), 9, "{err}");
        }
        // Long runs with no valid code are still masked when another rule refuses the id.
        let err = ClientId::new("Jonas 39001010001").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid client id `Jonas *********01`: expected 1 to 64 of letters, digits, '-', '_' and '.'"
        );
        let err = ProviderId::new("PRV 123456789012345").unwrap_err();
        assert!(err.to_string().contains("`PRV *************45`"), "{err}");
        // Short digit runs are shown as they are.
        let err = ProviderId::new("PRV 1234").unwrap_err();
        assert!(err.to_string().contains("`PRV 1234`"), "{err}");
    }
}
