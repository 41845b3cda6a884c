-- (b) the server-side keyset loop on MariaDB: per batch, select the next keys with the whole
-- predicate, delete that key range repeating the predicate, log the batch's time, COMMIT.
-- With per-row index lookups, as retentiond runs its batch statements: MariaDB would otherwise
-- materialize the whole subscriptions table for each statement.
DROP PROCEDURE IF EXISTS bench_purge_loop;
DELIMITER //
CREATE PROCEDURE bench_purge_loop(IN p_batch INT, OUT p_total BIGINT)
BEGIN
    DECLARE v_thr DATETIME DEFAULT UTC_TIMESTAMP() - INTERVAL 6 MONTH;
    DECLARE v_last BIGINT DEFAULT 0;
    DECLARE v_hi BIGINT;
    DECLARE v_cnt INT;
    DECLARE v_n INT;
    DECLARE v_b INT DEFAULT 0;
    SET p_total = 0;
    SET SESSION optimizer_switch = 'semijoin=off,materialization=off';
    INSERT INTO bench_batches VALUES ('b', 0, 0, SYSDATE(6));
    batches: LOOP
        START TRANSACTION;
        SELECT COUNT(*), MAX(id) INTO v_cnt, v_hi FROM (
            SELECT m.id FROM messages m
            WHERE m.id > v_last
              AND EXISTS (SELECT 1 FROM subscriptions r WHERE r.customer_id = m.customer_id)
              AND NOT EXISTS (SELECT 1 FROM subscriptions r WHERE r.customer_id = m.customer_id
                                AND (r.ended_at IS NULL OR r.ended_at >= v_thr))
            ORDER BY m.id LIMIT p_batch) s;
        IF v_cnt = 0 THEN
            COMMIT;
            LEAVE batches;
        END IF;
        DELETE FROM messages
        WHERE id > v_last AND id <= v_hi
          AND EXISTS (SELECT 1 FROM subscriptions r WHERE r.customer_id = messages.customer_id)
          AND NOT EXISTS (SELECT 1 FROM subscriptions r WHERE r.customer_id = messages.customer_id
                            AND (r.ended_at IS NULL OR r.ended_at >= v_thr));
        SET v_n = ROW_COUNT();
        SET p_total = p_total + v_n;
        SET v_b = v_b + 1;
        INSERT INTO bench_batches VALUES ('b', v_b, v_n, SYSDATE(6));
        COMMIT;
        IF v_cnt < p_batch THEN
            LEAVE batches;
        END IF;
        SET v_last = v_hi;
    END LOOP;
END //
DELIMITER ;
