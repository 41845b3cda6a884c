-- (b) the server-side keyset loop: per batch, select the next keys with the whole predicate,
-- delete that key range repeating the predicate (as retentiond and pt-archiver do), log the
-- batch's time, COMMIT. Same walk and stop rule as retentiond (stop after a short batch).
\set ON_ERROR_STOP on
CREATE OR REPLACE PROCEDURE bench_purge_loop(p_batch int, INOUT p_total bigint DEFAULT 0)
LANGUAGE plpgsql AS $$
DECLARE
    v_thr  timestamptz := now() - interval '6 months';
    v_last bigint := 0;
    v_ids  bigint[];
    v_n    int;
    v_b    int := 0;
BEGIN
    p_total := 0;
    INSERT INTO bench_batches VALUES ('b', 0, 0, clock_timestamp());
    COMMIT;
    LOOP
        SELECT array_agg(id ORDER BY id) INTO v_ids FROM (
            SELECT m.id FROM messages m
            WHERE m.id > v_last
              AND EXISTS (SELECT 1 FROM subscriptions r WHERE r.customer_id = m.customer_id)
              AND NOT EXISTS (SELECT 1 FROM subscriptions r WHERE r.customer_id = m.customer_id
                                AND (r.ended_at IS NULL OR r.ended_at >= v_thr))
            ORDER BY m.id LIMIT p_batch) s;
        EXIT WHEN v_ids IS NULL;
        DELETE FROM messages m
        WHERE m.id > v_last AND m.id <= v_ids[array_length(v_ids, 1)]
          AND EXISTS (SELECT 1 FROM subscriptions r WHERE r.customer_id = m.customer_id)
          AND NOT EXISTS (SELECT 1 FROM subscriptions r WHERE r.customer_id = m.customer_id
                            AND (r.ended_at IS NULL OR r.ended_at >= v_thr));
        GET DIAGNOSTICS v_n = ROW_COUNT;
        p_total := p_total + v_n;
        v_b := v_b + 1;
        INSERT INTO bench_batches VALUES ('b', v_b, v_n, clock_timestamp());
        COMMIT;
        EXIT WHEN array_length(v_ids, 1) < p_batch;
        v_last := v_ids[array_length(v_ids, 1)];
    END LOOP;
END $$;
