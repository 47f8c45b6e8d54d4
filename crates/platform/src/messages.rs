//! The message catalogs of what the services say to people: one Fluent file per language
//! (`data/messages/en.ftl`, `data/messages/zh-CN.ftl`), the same ids in each. A field violation made from a message
//! (`validation::msg`) carries its id and arguments; its English text is the `description` the command line shows,
//! and its Chinese text travels beside it as the violation's `localized_message`, which the console shows on a
//! Chinese page. One source for each text: the Chinese is written here, not again in the browser.

use std::fmt;
use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use serde::{Deserialize, Serialize};

/// A language of the catalogs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English: the descriptions.
    En,
    /// Simplified Chinese, as written in mainland China.
    ZhCn,
}

impl Lang {
    /// The language an HTTP `Accept-Language` value (or gRPC `accept-language` metadata) asks for first among
    /// those the catalogs have; English when it names neither.
    pub fn from_accept(value: &str) -> Lang {
        let mut ranked: Vec<(f32, &str)> = value
            .split(',')
            .filter_map(|part| {
                let mut it = part.split(';');
                let tag = it.next()?.trim();
                let q = it
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.parse().ok())
                    .unwrap_or(1.0);
                (!tag.is_empty()).then_some((q, tag))
            })
            .collect();
        // Stable: equal weights keep the order they were given in.
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (q, tag) in ranked {
            if q <= 0.0 {
                continue;
            }
            let tag = tag.to_ascii_lowercase();
            if tag == "zh" || tag.starts_with("zh-cn") || tag.starts_with("zh-hans") {
                return Lang::ZhCn;
            }
            if tag == "en" || tag.starts_with("en-") {
                return Lang::En;
            }
        }
        Lang::En
    }

    /// The BCP 47 tag.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhCn => "zh-CN",
        }
    }
}

fn bundle(tag: &str, source: &'static str) -> FluentBundle<FluentResource> {
    let lang = tag.parse().expect("a language tag");
    let mut bundle = FluentBundle::new_concurrent(vec![lang]);
    // No Unicode isolation marks around arguments: the texts are shown in forms and logs, not mixed-direction.
    bundle.set_use_isolating(false);
    let resource = FluentResource::try_new(source.to_string())
        .unwrap_or_else(|(_, errors)| panic!("{tag} message catalog: {errors:?}"));
    bundle
        .add_resource(resource)
        .unwrap_or_else(|errors| panic!("{tag} message catalog: {errors:?}"));
    bundle
}

static EN: LazyLock<FluentBundle<FluentResource>> =
    LazyLock::new(|| bundle("en", include_str!("../data/messages/en.ftl")));
static ZH_CN: LazyLock<FluentBundle<FluentResource>> =
    LazyLock::new(|| bundle("zh-CN", include_str!("../data/messages/zh-CN.ftl")));

/// The text of message `id` in `lang` with `args`; `None` when the catalog has no such message.
pub fn render(lang: Lang, id: &str, args: &[(String, String)]) -> Option<String> {
    let bundle = match lang {
        Lang::En => &*EN,
        Lang::ZhCn => &*ZH_CN,
    };
    let pattern = bundle.get_message(id)?.value()?;
    let mut fluent_args = FluentArgs::new();
    for (name, value) in args {
        // A whole number is a number to the catalogs, so that a plural can be chosen by it; a longer string of
        // digits (an 18-digit credit code) stays text, which a number (a double) would round.
        match value.parse::<i64>() {
            Ok(n)
                if value.len() <= 15
                    && !value.starts_with('+')
                    && (value == "0" || !value.starts_with('0')) =>
            {
                fluent_args.set(name.as_str(), n)
            }
            _ => fluent_args.set(name.as_str(), value.as_str()),
        }
    }
    let mut errors = Vec::new();
    let text = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
    errors.is_empty().then(|| text.into_owned())
}

/// Something a service says to people, kept as a message of the catalogs with its arguments and worded only when
/// shown, in the reader's language. What was stored before the catalogs, as an English sentence, stays `Plain`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Text {
    /// A message of the catalogs.
    Message {
        /// The message id.
        id: String,
        /// Its arguments, in the order given.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        args: Vec<(String, String)>,
    },
    /// An English sentence (stored before the catalogs, or not yet given a message).
    Plain(String),
    /// Texts said one after the other (`a; b`, in Chinese `a；b`).
    Joined(Vec<Text>),
}

/// Department names by code, for the arguments that name departments.
pub type Names = std::collections::HashMap<String, String>;

/// How texts are worded for one reader: the language, and the departments by name.
#[derive(Debug, Clone)]
pub struct Words {
    /// The reader's language.
    pub lang: Lang,
    /// Department names by code.
    pub names: std::sync::Arc<Names>,
}

impl Words {
    /// English, departments by code: for logs, events and the English descriptions.
    pub fn english() -> Self {
        Self {
            lang: Lang::En,
            names: Default::default(),
        }
    }

    /// `text` as this reader reads it.
    pub fn of(&self, text: &Text) -> String {
        text.render_with(self.lang, &self.names)
    }
}

/// Message `id` of the catalogs; add its arguments with [`Text::arg`].
pub fn msg(id: &str) -> Text {
    Text::Message {
        id: id.to_string(),
        args: Vec::new(),
    }
}

impl Text {
    /// With argument `name` = `value`. By the argument's name the reader's language words it: a name ending in
    /// `dept` holds a department's code and `depts` several, comma-separated (shown by their names); one ending in
    /// `day` holds a date `YYYY-MM-DD` (in Chinese 2027年3月1日); one ending in `phase` a saga's phase and one ending
    /// in `deadline` a kind of deadline, one ending in `plan_state`, `task_state`, `result_state`, `transfer_state`,
    /// `recusal_state` or `draw_state` such a state (shown by the catalogs' messages `phase-…`, `deadline-…`,
    /// `plan_state-…` and so on); one ending in `role` a role (`role-department_head`); one ending in `bp` basis
    /// points, shown as a percentage (150 is 1.5%).
    pub fn arg(mut self, name: &str, value: impl fmt::Display) -> Self {
        if let Text::Message { args, .. } = &mut self {
            args.push((name.to_string(), value.to_string()));
        }
        self
    }

    /// This text, then `next`.
    pub fn then(self, next: Text) -> Self {
        match self {
            Text::Joined(mut parts) => {
                parts.push(next);
                Text::Joined(parts)
            }
            first => Text::Joined(vec![first, next]),
        }
    }

    /// The message id, `""` for a plain sentence or several texts.
    pub fn code(&self) -> &str {
        match self {
            Text::Message { id, .. } => id,
            Text::Plain(_) | Text::Joined(_) => "",
        }
    }

    /// The arguments.
    pub fn args(&self) -> &[(String, String)] {
        match self {
            Text::Message { args, .. } => args,
            Text::Plain(_) | Text::Joined(_) => &[],
        }
    }

    /// In `lang` (a plain sentence as it is), departments by their codes.
    pub fn render(&self, lang: Lang) -> String {
        self.render_with(lang, &Names::new())
    }

    /// In `lang`, departments by their names in `names`.
    pub fn render_with(&self, lang: Lang, names: &Names) -> String {
        match self {
            Text::Plain(s) => s.clone(),
            Text::Joined(parts) => {
                let sep = match lang {
                    Lang::En => "; ",
                    Lang::ZhCn => "；",
                };
                parts
                    .iter()
                    .map(|p| p.render_with(lang, names))
                    .collect::<Vec<_>>()
                    .join(sep)
            }
            Text::Message { id, args } => {
                let worded: Vec<(String, String)> = args
                    .iter()
                    .map(|(k, v)| (k.clone(), word_arg(lang, k, v, names)))
                    .collect();
                render(lang, id, &worded).unwrap_or_else(|| {
                    // A message id or argument the catalog lacks is a bug; the id still says what it was.
                    tracing::error!(id, "no such message, or an argument is missing");
                    id.clone()
                })
            }
        }
    }

    /// In English.
    pub fn text(&self) -> String {
        self.render(Lang::En)
    }

    /// As the API carries it (`suiji.types.v1.Text`).
    pub fn to_pb(&self) -> suiji_api::types::v1::Text {
        use suiji_api::types::v1::Text as Pb;
        match self {
            Text::Message { id, args } => Pb {
                code: id.clone(),
                args: args.iter().cloned().collect(),
                parts: Vec::new(),
            },
            Text::Plain(_) => Pb::default(),
            Text::Joined(parts) => Pb {
                parts: parts.iter().map(Text::to_pb).collect(),
                ..Pb::default()
            },
        }
    }

    /// Stored as one string: JSON for a message or several, the sentence itself for a plain one (so older rows, which hold
    /// sentences, read back as `Plain`).
    pub fn to_stored(&self) -> String {
        match self {
            Text::Plain(s) => s.clone(),
            Text::Message { .. } | Text::Joined(_) => {
                serde_json::to_string(self).expect("a text serializes")
            }
        }
    }

    /// What [`Text::to_stored`] wrote.
    pub fn from_stored(s: &str) -> Text {
        if (s.starts_with('{') || s.starts_with('['))
            && let Ok(t @ (Text::Message { .. } | Text::Joined(_))) =
                serde_json::from_str::<Text>(s)
        {
            return t;
        }
        Text::Plain(s.to_string())
    }
}

/// In English, departments by code.
impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

/// An argument as `lang` words it, by its name (see [`Text::arg`]).
fn word_arg(lang: Lang, name: &str, value: &str, names: &Names) -> String {
    let dept = |code: &str| names.get(code).cloned().unwrap_or_else(|| code.to_string());
    if name.ends_with("depts") {
        let sep = match lang {
            Lang::En => ", ",
            Lang::ZhCn => "、",
        };
        return value
            .split(',')
            .filter(|c| !c.is_empty())
            .map(dept)
            .collect::<Vec<_>>()
            .join(sep);
    }
    if name.ends_with("dept") {
        return dept(value);
    }
    // A saga's phase or a kind of deadline: by the catalogs' name for it.
    for kind in [
        "phase",
        "deadline",
        "plan_state",
        "task_state",
        "result_state",
        "transfer_state",
        "recusal_state",
        "draw_state",
        "role",
    ] {
        // Fluent names have no dots: `department.head` is `role-department_head`.
        if name.ends_with(kind)
            && let Some(named) = render(lang, &format!("{kind}-{}", value.replace('.', "_")), &[])
        {
            return named;
        }
    }
    // Basis points as a percentage: 150 is 1.5%.
    if name.ends_with("bp")
        && let Ok(bp) = value.parse::<i64>()
    {
        let percent = format!("{}.{:02}", bp / 100, (bp % 100).abs());
        return format!("{}%", percent.trim_end_matches('0').trim_end_matches('.'));
    }
    if name.ends_with("day")
        && let Ok(d) = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
    {
        use chrono::Datelike;
        return match lang {
            Lang::ZhCn => format!("{}年{}月{}日", d.year(), d.month(), d.day()),
            // As the console writes a day in English: 1 March 2027.
            Lang::En => d.format("%-d %B %Y").to_string(),
        };
    }
    value.to_string()
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text::Plain(s.to_string())
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text::Plain(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_has_a_name_in_each_language() {
        for role in crate::auth::PEOPLE_ROLES {
            for lang in [Lang::En, Lang::ZhCn] {
                let id = format!("role-{}", role.replace('.', "_"));
                assert!(render(lang, &id, &[]).is_some(), "{id} in {lang:?}");
            }
        }
    }

    fn ids(source: &str) -> Vec<String> {
        let mut ids: Vec<String> = source
            .lines()
            .filter(|l| !l.starts_with(['#', ' ', '}', '-']))
            .filter_map(|l| l.split_once(" = ").map(|(id, _)| id.trim().to_string()))
            .collect();
        ids.sort();
        ids
    }

    #[test]
    fn basis_points_read_as_percentages_and_roles_by_their_names() {
        let cap = msg("item-cap")
            .arg("given_bp", 150)
            .arg("item", "SX-1")
            .arg("cap_bp", 200);
        assert_eq!(
            cap.render(Lang::En),
            "1.5% is over the cap of item SX-1 (2%)"
        );
        assert_eq!(cap.render(Lang::ZhCn), "1.5% 超过了事项 SX-1 的比例上限 2%");
        let low = msg("item-cap")
            .arg("given_bp", 5)
            .arg("item", "SX-1")
            .arg("cap_bp", 1000);
        assert_eq!(
            low.render(Lang::En),
            "0.05% is over the cap of item SX-1 (10%)"
        );
        let role = msg("denied-role").arg("role", "department.head");
        assert_eq!(role.render(Lang::En), "needs the role department.head");
        assert_eq!(role.render(Lang::ZhCn), "需要“部门负责人”角色");
        let unknown = msg("denied-role").arg("role", "no.such-role");
        assert_eq!(unknown.render(Lang::ZhCn), "需要“no.such-role”角色");
    }

    #[test]
    fn both_catalogs_have_the_same_messages_and_render_them() {
        let en = ids(include_str!("../data/messages/en.ftl"));
        let zh = ids(include_str!("../data/messages/zh-CN.ftl"));
        assert_eq!(en, zh, "the same ids in each language");
        assert!(en.len() > 30, "{en:?}");
        for id in &en {
            // Every argument any message names.
            let source = include_str!("../data/messages/en.ftl");
            let args: Vec<(String, String)> = source
                .split('$')
                .skip(1)
                .map(|rest| {
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    (name, "7".to_string())
                })
                .collect();
            assert!(render(Lang::En, id, &args).is_some(), "en {id}");
            assert!(render(Lang::ZhCn, id, &args).is_some(), "zh-CN {id}");
        }
    }

    #[test]
    fn a_selector_words_a_visit_outcome_in_each_language() {
        let args = |outcome: &str| {
            ["code", "text", "outcome"]
                .iter()
                .zip(["1", "未发现问题", outcome])
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            render(Lang::ZhCn, "result-code-outcome", &args("not_found")).as_deref(),
            Some("代码 1（未发现问题）不适用于通过登记的住所无法联系的检查对象")
        );
        assert_eq!(
            render(Lang::En, "result-code-outcome", &args("closed")).as_deref(),
            Some("1 (未发现问题) cannot be said of a target the visit found closed")
        );
    }

    #[test]
    fn the_accepted_language_is_the_first_the_catalogs_have() {
        assert_eq!(Lang::from_accept("zh-CN,zh;q=0.9,en;q=0.8"), Lang::ZhCn);
        assert_eq!(Lang::from_accept("en-US,en;q=0.9,zh-CN;q=0.8"), Lang::En);
        assert_eq!(Lang::from_accept("fr;q=1, zh;q=0.5"), Lang::ZhCn);
        assert_eq!(Lang::from_accept("zh-CN;q=0.2, en;q=0.9"), Lang::En);
        assert_eq!(Lang::from_accept("zh-TW"), Lang::En);
        assert_eq!(Lang::from_accept(""), Lang::En);
    }

    #[test]
    fn a_text_is_stored_and_read_back_and_a_stored_sentence_stays_a_sentence() {
        let t = msg("at-most-chars").arg("max", 200);
        let stored = t.to_stored();
        assert_eq!(Text::from_stored(&stored), t);
        assert_eq!(
            Text::from_stored(&stored).render(Lang::ZhCn),
            "不能超过 200 个字符"
        );
        let old = "3 targets drawn; awaiting the lead's review";
        assert_eq!(Text::from_stored(old), Text::Plain(old.into()));
        assert_eq!(
            Text::from_stored("{not json").render(Lang::ZhCn),
            "{not json"
        );
        // Kept in a saga's state as JSON: a sentence stored before the catalogs still reads.
        let back: Text = serde_json::from_str("\"paused\"").unwrap();
        assert_eq!(back, Text::Plain("paused".into()));
        let back: Text = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn departments_and_days_are_worded_for_the_reader() {
        let names: Names = [("610400-STHJ".to_string(), "咸阳市生态环境局".to_string())].into();
        let t = msg("tl-saga-started")
            .arg("depts", "610400-STHJ,610400-SWJ")
            .arg("day", "2027-03-01");
        assert_eq!(
            t.render_with(Lang::ZhCn, &names),
            "已邀请咸阳市生态环境局、610400-SWJ在2027年3月1日前答复"
        );
        assert_eq!(
            t.render_with(Lang::En, &names),
            "invited 咸阳市生态环境局, 610400-SWJ to answer by 1 March 2027"
        );
        let joined = t.clone().then(Text::Plain("paused".into()));
        assert_eq!(Text::from_stored(&joined.to_stored()), joined);
        assert!(joined.render(Lang::En).ends_with("1 March 2027; paused"));
        // A count chooses the plural.
        let one = msg("tl-targets-drawn").arg("count", 1);
        assert_eq!(
            one.render(Lang::En),
            "1 target drawn; awaiting the lead's review"
        );
        let two = msg("tl-targets-drawn").arg("count", 2);
        assert_eq!(
            two.render(Lang::En),
            "2 targets drawn; awaiting the lead's review"
        );
        assert_eq!(
            two.render(Lang::ZhCn),
            "已抽取 2 个检查对象，待牵头部门审核"
        );
    }

    #[test]
    fn arguments_fill_the_text_and_a_missing_one_is_refused() {
        let args = vec![("max".to_string(), "200".to_string())];
        assert_eq!(
            render(Lang::ZhCn, "at-most-chars", &args).as_deref(),
            Some("不能超过 200 个字符")
        );
        assert_eq!(
            render(Lang::En, "at-most-chars", &args).as_deref(),
            Some("must be at most 200 characters")
        );
        assert_eq!(render(Lang::ZhCn, "at-most-chars", &[]), None);
        assert_eq!(render(Lang::En, "no-such-message", &[]), None);
    }
}
