-- The audit chain heads other services announced (platform.audit.anchored, at their start and daily): a service
-- whose chain was rewritten in its own database, head included, no longer matches what the others keep here.
CREATE TABLE audit_anchors (
    service TEXT NOT NULL,
    seq     BIGINT NOT NULL,
    hash    TEXT NOT NULL,
    at_ms   BIGINT NOT NULL,
    PRIMARY KEY (service, seq)
);
