//! Fuzzing the parsers that read what arrives from outside, from the seeds of `fuzz/corpus/`: a bearer token and
//! the operator's calendar file. Whatever the bytes, the answer is a value or an error, never a panic; a token
//! made from a seed is never accepted.

use proptest::prelude::*;
use suiji_platform::auth::{Signer, Tokens};
use suiji_platform::calendar::Calendar;
use suiji_platform::config::{Secret, Settings};
use suiji_platform::testing::fuzz::{corpus, mutated};

fn tokens() -> Tokens {
    let mut settings = Settings::load_with(None, Some(Default::default()), &[]).unwrap();
    settings.auth.signing_key = Secret::new(Signer::generate_pem());
    Tokens::new(&settings.auth).unwrap()
}

proptest! {
    #[test]
    fn no_token_made_of_a_seed_is_accepted(input in mutated(corpus("token"))) {
        let tokens = tokens();
        let text = String::from_utf8_lossy(&input);
        prop_assert!(tokens.verify(&text).is_err(), "accepted: {text}");
    }

    #[test]
    fn a_calendar_file_reads_or_is_refused(input in mutated(corpus("calendar"))) {
        let text = String::from_utf8_lossy(&input);
        if let Ok(calendar) = Calendar::with_extra(Some(&text)) {
            // What it read answers questions of any day without panicking.
            let day = chrono::NaiveDate::from_ymd_opt(2027, 9, 15).unwrap();
            let _ = calendar.add_working_days(day, 20);
        }
    }
}
