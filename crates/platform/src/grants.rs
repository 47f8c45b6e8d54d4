//! Least privilege in a deployment: each service connects to PostgreSQL as a role that owns its own schema and
//! nothing else, and to RabbitMQ as a user that may declare and read only its own queues and publish only its own
//! routing keys. This module writes what an operator runs once for each (`suiji grants` prints it); the tests run
//! the same before starting services under those roles. docs/security.md says what each refusal protects.

use crate::bus::amqp::Names;
use crate::db::{quote_ident, quote_literal};

/// The PostgreSQL statements, run by a superuser connected to `database`, that make `role` a login owning
/// `schema` (and every table already in it) and able to connect, and that take from everyone else the rights
/// PostgreSQL gives by default (connecting to the database, creating in `public`). The role's password is set
/// apart (`ALTER ROLE … PASSWORD`, or `\password` in psql), so it is never printed.
pub fn postgres(database: &str, schema: &str, role: &str) -> Vec<String> {
    let (db, sch, r) = (
        quote_ident(database),
        quote_ident(schema),
        quote_ident(role),
    );
    vec![
        format!(
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {}) THEN \
             CREATE ROLE {r} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION; END IF; END $$",
            quote_literal(role)
        ),
        format!("REVOKE ALL ON DATABASE {db} FROM PUBLIC"),
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC".to_string(),
        format!("GRANT CONNECT ON DATABASE {db} TO {r}"),
        format!("CREATE SCHEMA IF NOT EXISTS {sch} AUTHORIZATION {r}"),
        format!("ALTER SCHEMA {sch} OWNER TO {r}"),
        // A schema a shared user filled before: its tables (and with them their sequences) pass to the role.
        format!(
            "DO $$ DECLARE t record; BEGIN FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = {} LOOP \
             EXECUTE format('ALTER TABLE %I.%I OWNER TO %I', {}, t.tablename, {}); END LOOP; END $$",
            quote_literal(schema),
            quote_literal(schema),
            quote_literal(role)
        ),
    ]
}

/// What one RabbitMQ user may do in the namespace's virtual host: the three regular expressions of
/// `rabbitmqctl set_permissions` and the routing keys it may publish on the events exchange
/// (`set_topic_permissions`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerGrant {
    /// Declaring (and deleting) queues and exchanges: its own queues, and the shared exchanges, which every
    /// service declares as it connects.
    pub configure: String,
    /// Publishing to the events exchange, binding its own queues, and naming the dead-letter exchange on its queue
    /// (RabbitMQ asks the right to write there of whoever declares a queue that dead-letters to it).
    pub write: String,
    /// Consuming from its own queues and binding them to the shared exchanges.
    pub read: String,
    /// The exchange the topic permission is on.
    pub exchange: String,
    /// The routing keys it may publish there.
    pub publish: String,
}

/// The grant of `service`'s user in `namespace`, publishing the routing keys that begin with one of `publishes`
/// and a dot (a service's own name, and for the inspection service also `draw.command`: it commands the draw).
pub fn rabbitmq(namespace: &str, service: &str, publishes: &[&str]) -> BrokerGrant {
    let names = Names::new(namespace);
    let ns = regex_escape(namespace);
    let own = format!("{ns}\\.{}(-anchors)?(\\.dead)?", regex_escape(service));
    let shared = |which: &[&str]| format!("{ns}\\.({})", which.join("|"));
    let keys: Vec<String> = publishes.iter().map(|p| regex_escape(p)).collect();
    BrokerGrant {
        configure: format!("^({own}|{})$", shared(&["events", "unrouted", "dlx"])),
        write: format!("^({own}|{})$", shared(&["events", "unrouted", "dlx"])),
        read: format!("^({own}|{})$", shared(&["events", "unrouted", "dlx"])),
        exchange: names.events(),
        publish: format!("^({})\\.", keys.join("|")),
    }
}

/// `text` with the characters a regular expression treats specially escaped.
fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_reaches_its_own_queues_and_publishes_its_own_keys() {
        let g = rabbitmq("suiji", "inspection", &["inspection", "draw.command"]);
        let matches = |re: &str, s: &str| regex::Regex::new(re).unwrap().is_match(s);
        for q in [
            "suiji.inspection",
            "suiji.inspection.dead",
            "suiji.inspection-anchors",
            "suiji.inspection-anchors.dead",
        ] {
            assert!(
                matches(&g.configure, q) && matches(&g.read, q) && matches(&g.write, q),
                "{q}"
            );
        }
        for q in [
            "suiji.draw",
            "suiji.draw.dead",
            "suiji.inspectionx",
            "other.inspection",
        ] {
            assert!(
                !matches(&g.configure, q) && !matches(&g.read, q) && !matches(&g.write, q),
                "{q}"
            );
        }
        assert!(matches(&g.write, "suiji.events") && !matches(&g.write, "suiji.draw"));
        assert!(matches(&g.publish, "inspection.visit.concluded"));
        assert!(matches(&g.publish, "draw.command.draw_targets"));
        assert!(matches(&g.publish, "inspection.audit.anchored"));
        assert!(!matches(&g.publish, "draw.targets.drawn"));
        assert!(!matches(&g.publish, "publication.result.published"));
        assert!(!matches(&g.publish, "drawxcommand.lock"));
    }

    #[test]
    fn the_statements_quote_what_they_name() {
        let sql = postgres("suiji", "catalog", "suiji_catalog").join(";\n");
        assert!(
            sql.contains("CREATE SCHEMA IF NOT EXISTS \"catalog\" AUTHORIZATION \"suiji_catalog\"")
        );
        assert!(sql.contains("GRANT CONNECT ON DATABASE \"suiji\" TO \"suiji_catalog\""));
        let odd = postgres("suiji", "catalog", "a\"b").join(";\n");
        assert!(odd.contains("\"a\"\"b\""), "{odd}");
    }
}
