//! Unified social credit codes (统一社会信用代码), GB 32100-2015.
//!
//! Eighteen characters over `0123456789ABCDEFGHJKLMNPQRTUWXY` (31 symbols, no I, O, S, V, Z): the registration
//! authority (1), the organisation type (2), the region code (3–8, GB/T 2260), the organisation code (9–17,
//! GB 11714, whose ninth character is its own check character) and the check character (18), computed with
//! weights 3^(i-1) mod 31 over the first seventeen.

/// The 31 symbols, in the order of their values.
use suiji_platform::messages::{Text, msg};

pub const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Weights of positions 1–17: 3^(i-1) mod 31.
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Weights of the eight body characters of a GB 11714 organisation code.
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// What is wrong with a credit code, with the 1-based position concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsccError {
    /// Not 18 characters.
    Length(usize),
    /// A character outside the alphabet.
    Character { position: usize, found: char },
    /// Positions 3–8 are not six digits.
    Region { position: usize, found: char },
    /// The organisation code's check character (position 17) is wrong.
    OrganisationCheck { expected: char, found: char },
    /// The check character (position 18) is wrong.
    Check { expected: char, found: char },
}

impl UsccError {
    /// What is wrong, as a message of the catalogs.
    pub fn text(&self) -> Text {
        match self {
            Self::Length(n) => msg("uscc-length").arg("found", n),
            Self::Character { position, found } => msg("uscc-character")
                .arg("position", position)
                .arg("found", found),
            Self::Region { position, found } => msg("uscc-region")
                .arg("position", position)
                .arg("found", found),
            Self::OrganisationCheck { expected, found } => msg("uscc-organisation-check")
                .arg("expected", expected)
                .arg("found", found),
            Self::Check { expected, found } => msg("uscc-check")
                .arg("expected", expected)
                .arg("found", found),
        }
    }
}

impl std::fmt::Display for UsccError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Length(n) => write!(f, "must be 18 characters, found {n}"),
            Self::Character { position, found } => write!(
                f,
                "position {position}: {found:?} is not allowed (digits and uppercase letters except I, O, S, V, Z)"
            ),
            Self::Region { position, found } => {
                write!(
                    f,
                    "position {position}: {found:?} is not a digit (positions 3–8 are the region code)"
                )
            }
            Self::OrganisationCheck { expected, found } => write!(
                f,
                "position 17: the organisation code's check character should be {expected:?}, found {found:?}"
            ),
            Self::Check { expected, found } => {
                write!(
                    f,
                    "position 18: the check character should be {expected:?}, found {found:?}"
                )
            }
        }
    }
}

fn value(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|v| v as u32)
}

/// The check character for the first seventeen characters (which must be in the alphabet).
pub fn check_character(first17: &[u8]) -> char {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(&c, w)| value(c).unwrap_or(0) * w)
        .sum();
    ALPHABET[((31 - sum % 31) % 31) as usize] as char
}

/// The GB 11714 check character of an eight-character organisation code body.
pub fn organisation_check(body: &[u8]) -> char {
    let sum: u32 = body
        .iter()
        .zip(ORG_WEIGHTS)
        .map(|(&c, w)| {
            let v = if c.is_ascii_digit() {
                u32::from(c - b'0')
            } else {
                u32::from(c - b'A') + 10
            };
            v * w
        })
        .sum();
    match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        n => char::from_digit(n, 10).expect("a digit"),
    }
}

/// Validates a credit code; input is trimmed and upper-cased first. Returns the normalised code.
pub fn validate(input: &str) -> Result<String, UsccError> {
    let code = input.trim().to_ascii_uppercase();
    let chars: Vec<char> = code.chars().collect();
    if chars.len() != 18 {
        return Err(UsccError::Length(chars.len()));
    }
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii() || value(c as u8).is_none() {
            return Err(UsccError::Character {
                position: i + 1,
                found: c,
            });
        }
    }
    let bytes = code.as_bytes();
    for (i, &c) in bytes.iter().enumerate().take(8).skip(2) {
        if !c.is_ascii_digit() {
            return Err(UsccError::Region {
                position: i + 1,
                found: c as char,
            });
        }
    }
    let expected = organisation_check(&bytes[8..16]);
    if bytes[16] as char != expected {
        return Err(UsccError::OrganisationCheck {
            expected,
            found: bytes[16] as char,
        });
    }
    let expected = check_character(&bytes[..17]);
    if bytes[17] as char != expected {
        return Err(UsccError::Check {
            expected,
            found: bytes[17] as char,
        });
    }
    Ok(code)
}

/// Builds a valid code from an authority, a type, a region and an eight-character organisation body (used by
/// the generator).
pub fn compose(authority: char, kind: char, region: &str, body: &str) -> String {
    let mut code = format!("{authority}{kind}{region}{body}");
    code.push(organisation_check(body.as_bytes()));
    let check = check_character(code.as_bytes());
    code.push(check);
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    // Codes as printed on business licences (the first is the example used in explanations of GB 32100).
    const REAL: &[&str] = &[
        "91350100M000100Y43",
        "91110000802100433B",
        "9144030071526726XG",
        "914403001922038216",
    ];

    #[test]
    fn published_codes_validate() {
        for code in REAL {
            assert_eq!(validate(code).as_deref(), Ok(*code), "{code}");
        }
    }

    #[test]
    fn lower_case_and_spaces_are_normalised() {
        assert_eq!(
            validate(" 9144030071526726xg ").unwrap(),
            "9144030071526726XG"
        );
    }

    #[test]
    fn a_wrong_check_character_names_position_18_and_the_expected_one() {
        let err = validate("9144030071526726XA").unwrap_err();
        assert_eq!(
            err,
            UsccError::Check {
                expected: 'G',
                found: 'A'
            }
        );
        assert!(err.to_string().starts_with("position 18"));
    }

    #[test]
    fn every_other_defect_is_named() {
        assert_eq!(validate("91440300715267"), Err(UsccError::Length(14)));
        assert_eq!(
            validate("9144030071526726IG"),
            Err(UsccError::Character {
                position: 17,
                found: 'I'
            })
        );
        assert_eq!(
            validate("91A4030071526726XG"),
            Err(UsccError::Region {
                position: 3,
                found: 'A'
            })
        );
        assert!(matches!(
            validate("914403007152672AXG"),
            Err(UsccError::OrganisationCheck { .. })
        ));
        // Full-width characters, as pasted from some spreadsheets, are named, not mistaken for a length error.
        assert_eq!(
            validate("９１４４０３００７１５２６７２６ＸＧ"),
            Err(UsccError::Character {
                position: 1,
                found: '９'
            })
        );
    }

    #[test]
    fn composed_codes_validate() {
        let code = compose('9', '1', "610402", "MA6T1234");
        assert_eq!(validate(&code).as_deref(), Ok(code.as_str()));
    }
}
