//! Industry codes, GB/T 4754-2017 (国民经济行业分类): twenty sections A–T, each a range of two-digit divisions,
//! then three- and four-digit groups and classes within the division.

/// Sections with their division ranges and names.
use suiji_platform::messages::{Text, msg};

pub const SECTIONS: &[(char, u8, u8, &str)] = &[
    ('A', 1, 5, "农、林、牧、渔业"),
    ('B', 6, 12, "采矿业"),
    ('C', 13, 43, "制造业"),
    ('D', 44, 46, "电力、热力、燃气及水生产和供应业"),
    ('E', 47, 50, "建筑业"),
    ('F', 51, 52, "批发和零售业"),
    ('G', 53, 60, "交通运输、仓储和邮政业"),
    ('H', 61, 62, "住宿和餐饮业"),
    ('I', 63, 65, "信息传输、软件和信息技术服务业"),
    ('J', 66, 69, "金融业"),
    ('K', 70, 70, "房地产业"),
    ('L', 71, 72, "租赁和商务服务业"),
    ('M', 73, 75, "科学研究和技术服务业"),
    ('N', 76, 79, "水利、环境和公共设施管理业"),
    ('O', 80, 82, "居民服务、修理和其他服务业"),
    ('P', 83, 83, "教育"),
    ('Q', 84, 85, "卫生和社会工作"),
    ('R', 86, 90, "文化、体育和娱乐业"),
    ('S', 91, 96, "公共管理、社会保障和社会组织"),
    ('T', 97, 97, "国际组织"),
];

/// The section a division belongs to.
pub fn section_of(division: u8) -> Option<char> {
    SECTIONS
        .iter()
        .find(|(_, lo, hi, _)| (*lo..=*hi).contains(&division))
        .map(|(s, ..)| *s)
}

/// Normalises an industry code to section letter + digits (`1311` → `C1311`, `f52` → `F52`, `C` → `C`),
/// or says why it is not one.
pub fn normalise(input: &str) -> Result<String, Text> {
    let code = input.trim().to_ascii_uppercase();
    let (letter, digits) = match code.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => (Some(c), &code[1..]),
        Some(_) => (None, code.as_str()),
        None => return Err(msg("not-empty")),
    };
    if digits.len() > 4 || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() == 1 {
        return Err(msg("industry-not-code").arg("value", input));
    }
    if digits.is_empty() {
        let letter = letter.expect("a letter");
        return if SECTIONS.iter().any(|(s, ..)| *s == letter) {
            Ok(letter.to_string())
        } else {
            Err(msg("industry-not-section").arg("value", letter))
        };
    }
    let division: u8 = digits[..2].parse().expect("two digits");
    let section = section_of(division)
        .ok_or_else(|| msg("industry-no-division").arg("division", format!("{division:02}")))?;
    if let Some(letter) = letter
        && letter != section
    {
        return Err(msg("industry-other-section")
            .arg("division", format!("{division:02}"))
            .arg("section", section)
            .arg("letter", letter));
    }
    Ok(format!("{section}{digits}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_normalised() {
        assert_eq!(normalise("1311").as_deref(), Ok("C1311"));
        assert_eq!(normalise("c1311").as_deref(), Ok("C1311"));
        assert_eq!(normalise("F52").as_deref(), Ok("F52"));
        assert_eq!(normalise("K").as_deref(), Ok("K"));
        assert_eq!(normalise("70").as_deref(), Ok("K70"));
    }

    #[test]
    fn bad_codes_say_why() {
        assert!(normalise("").is_err());
        assert!(normalise("Z").unwrap_err().text().contains("not a section"));
        assert!(
            normalise("99")
                .unwrap_err()
                .text()
                .contains("does not exist")
        );
        assert!(
            normalise("A52")
                .unwrap_err()
                .text()
                .contains("belongs to section F")
        );
        assert!(normalise("C13111").is_err());
        assert!(normalise("C1").is_err());
    }

    #[test]
    fn sections_cover_every_division_once() {
        let mut next = 1;
        for (_, lo, hi, _) in SECTIONS {
            assert_eq!(*lo, next);
            next = hi + 1;
        }
        assert_eq!(next, 98);
    }
}
