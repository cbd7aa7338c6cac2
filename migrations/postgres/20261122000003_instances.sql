-- Cluster-wide numbers: each running instance writes its open streams here
-- every second (its heartbeat). `/api/sse/stats` and the console's "online
-- now" add up the instances heard from in the last few seconds; a row left
-- by an instance that died is ignored, then deleted.
CREATE TABLE instances (
    id           TEXT   PRIMARY KEY,
    heartbeat_at BIGINT NOT NULL,
    streams      BIGINT NOT NULL,
    -- {"<user_id>": <open streams>, …}
    user_streams TEXT   NOT NULL
);
