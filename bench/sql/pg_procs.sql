-- (b) the server-side keyset loop: per batch, the statement retentiond issues (select the next
-- keys with the whole predicate and delete exactly those rows, repeating the predicate, in one
-- statement), log the batch's time, COMMIT. Same walk and stop rule as retentiond (stop after a
-- short batch).
\set ON_ERROR_STOP on
CREATE OR REPLACE PROCEDURE bench_purge_loop(p_batch int, INOUT p_total bigint DEFAULT 0)
LANGUAGE plpgsql AS $$
DECLARE
    v_thr  timestamptz := now() - interval '6 months';
    v_last bigint := 0;
    v_cnt  int;
    v_hi   bigint;
    v_n    int;
    v_b    int := 0;
BEGIN
    p_total := 0;
    INSERT INTO bench_batches VALUES ('b', 0, 0, clock_timestamp());
    COMMIT;
    LOOP
        WITH k AS (
            SELECT m.id FROM messages m
            WHERE m.id > v_last
              AND EXISTS (SELECT 1 FROM subscriptions r WHERE r.customer_id = m.customer_id)
              AND NOT EXISTS (SELECT 1 FROM subscriptions r WHERE r.customer_id = m.customer_id
                                AND (r.ended_at IS NULL OR r.ended_at >= v_thr))
            ORDER BY m.id LIMIT p_batch
        ), d AS (
            DELETE FROM messages m USING k
            WHERE m.id = k.id
              AND EXISTS (SELECT 1 FROM subscriptions r WHERE r.customer_id = m.customer_id)
              AND NOT EXISTS (SELECT 1 FROM subscriptions r WHERE r.customer_id = m.customer_id
                                AND (r.ended_at IS NULL OR r.ended_at >= v_thr))
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM k), (SELECT max(id) FROM k), (SELECT count(*) FROM d)
        INTO v_cnt, v_hi, v_n;
        EXIT WHEN v_cnt = 0;
        p_total := p_total + v_n;
        v_b := v_b + 1;
        INSERT INTO bench_batches VALUES ('b', v_b, v_n, clock_timestamp());
        COMMIT;
        EXIT WHEN v_cnt < p_batch;
        v_last := v_hi;
    END LOOP;
END $$;
