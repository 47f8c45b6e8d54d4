//! The message catalogs of what the services say to people: one Fluent file per language
//! (`data/messages/en.ftl`, `data/messages/zh-CN.ftl`), the same ids in each. A field violation made from a message
//! (`validation::msg`) carries its id and arguments; its English text is the `description` the command line shows,
//! and its Chinese text travels beside it as the violation's `localized_message`, which the console shows on a
//! Chinese page. One source for each text: the Chinese is written here, not again in the browser.

use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};

/// A language of the catalogs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English: the descriptions.
    En,
    /// Simplified Chinese, as written in mainland China.
    ZhCn,
}

impl Lang {
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
        fluent_args.set(name.as_str(), value.as_str());
    }
    let mut errors = Vec::new();
    let text = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
    errors.is_empty().then(|| text.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(source: &str) -> Vec<String> {
        let mut ids: Vec<String> = source
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with(' ') && !l.starts_with('}'))
            .filter_map(|l| l.split_once(" = ").map(|(id, _)| id.trim().to_string()))
            .collect();
        ids.sort();
        ids
    }

    #[test]
    fn both_catalogs_have_the_same_messages_and_render_them() {
        let en = ids(include_str!("../data/messages/en.ftl"));
        let zh = ids(include_str!("../data/messages/zh-CN.ftl"));
        assert_eq!(en, zh, "the same ids in each language");
        assert!(en.len() > 30, "{en:?}");
        for id in &en {
            let args: Vec<(String, String)> = [
                "max",
                "value",
                "code",
                "given",
                "given_percent",
                "cap",
                "cap_percent",
                "level",
                "points",
                "lower",
                "lower_points",
                "year",
                "table",
                "text",
                "problems",
                "outcome",
                "day",
            ]
            .iter()
            .map(|a| (a.to_string(), "7".to_string()))
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
