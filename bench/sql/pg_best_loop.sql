-- (e) the best batched loop a DBA would write by hand: find the expired customers ONCE (one
-- aggregate over subscriptions, into a temporary table with a primary key), then delete their
-- messages in key batches joined to that set. The DELETE still re-checks at write that the
-- customer has no open or recent subscription, so a subscription started during the run saves
-- its messages. One log row and a COMMIT per batch, the same walk and stop rule as (b) (stop
-- after a short batch). p_sleep_ms: a pause after each COMMIT (the trade-off curve);
-- p_max_ms: stop after this long (0 = no limit), like retentiond's max_runtime.
\set ON_ERROR_STOP on
CREATE OR REPLACE PROCEDURE bench_best_loop(p_batch int, p_sleep_ms int DEFAULT 0,
                                            p_max_ms int DEFAULT 0, INOUT p_total bigint DEFAULT 0)
LANGUAGE plpgsql AS $$
DECLARE
    v_thr   timestamptz := now() - interval '6 months';
    v_start timestamptz := clock_timestamp();
    v_last  bigint := 0;
    v_cnt   int;
    v_hi    bigint;
    v_n     int;
    v_b     int := 0;
BEGIN
    p_total := 0;
    INSERT INTO bench_batches VALUES ('e', 0, 0, clock_timestamp());
    -- A temporary table writes no WAL and outlives the COMMITs of this session.
    DROP TABLE IF EXISTS bench_expired;
    CREATE TEMPORARY TABLE bench_expired (customer_id bigint PRIMARY KEY);
    INSERT INTO bench_expired
        SELECT customer_id FROM subscriptions GROUP BY customer_id
        HAVING count(*) = count(ended_at) AND max(ended_at) < v_thr;
    -- Autovacuum never analyzes temporary tables; without statistics the planner guesses.
    ANALYZE bench_expired;
    COMMIT;
    LOOP
        WITH k AS (
            SELECT m.id FROM messages m JOIN bench_expired e ON e.customer_id = m.customer_id
            WHERE m.id > v_last
            ORDER BY m.id LIMIT p_batch
        ), d AS (
            DELETE FROM messages m USING k
            WHERE m.id = k.id
              AND NOT EXISTS (SELECT 1 FROM subscriptions r WHERE r.customer_id = m.customer_id
                                AND (r.ended_at IS NULL OR r.ended_at >= v_thr))
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM k), (SELECT max(id) FROM k), (SELECT count(*) FROM d)
        INTO v_cnt, v_hi, v_n;
        EXIT WHEN v_cnt = 0;
        p_total := p_total + v_n;
        v_b := v_b + 1;
        INSERT INTO bench_batches VALUES ('e', v_b, v_n, clock_timestamp());
        COMMIT;
        EXIT WHEN v_cnt < p_batch;
        EXIT WHEN p_max_ms > 0 AND clock_timestamp() - v_start >= p_max_ms * interval '1 millisecond';
        IF p_sleep_ms > 0 THEN
            PERFORM pg_sleep(p_sleep_ms / 1000.0);
        END IF;
        v_last := v_hi;
    END LOOP;
    DROP TABLE IF EXISTS bench_expired;
END $$;
