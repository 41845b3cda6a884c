-- (e) the best batched loop a DBA would write by hand, on MariaDB: find the expired customers
-- ONCE (one aggregate over subscriptions, into a temporary table with a primary key), then per
-- batch select the next keys of their messages and delete that key range joined to the set,
-- re-checking at write that the customer has no open or recent subscription. One log row and a
-- COMMIT per batch, the same walk and stop rule as (b) (stop after a short batch).
-- p_sleep_ms: a pause after each COMMIT (the trade-off curve); p_max_ms: stop after this long
-- (0 = no limit), like retentiond's max_runtime.
DROP PROCEDURE IF EXISTS bench_best_loop;
DELIMITER //
CREATE PROCEDURE bench_best_loop(IN p_batch INT, IN p_sleep_ms INT, IN p_max_ms INT, OUT p_total BIGINT)
BEGIN
    DECLARE v_thr DATETIME DEFAULT UTC_TIMESTAMP() - INTERVAL 6 MONTH;
    DECLARE v_start DATETIME(6) DEFAULT SYSDATE(6);
    DECLARE v_last BIGINT DEFAULT 0;
    DECLARE v_hi BIGINT;
    DECLARE v_cnt INT;
    DECLARE v_n INT;
    DECLARE v_b INT DEFAULT 0;
    SET p_total = 0;
    -- Per-row index lookups: walk messages by its primary key and probe the set's primary key
    -- (and subscriptions' index for the re-check) instead of materializing per statement.
    SET SESSION optimizer_switch = 'semijoin=off,materialization=off';
    INSERT INTO bench_batches VALUES ('e', 0, 0, SYSDATE(6));
    DROP TEMPORARY TABLE IF EXISTS bench_expired;
    CREATE TEMPORARY TABLE bench_expired (customer_id BIGINT PRIMARY KEY) ENGINE=InnoDB;
    INSERT INTO bench_expired
        SELECT customer_id FROM subscriptions GROUP BY customer_id
        HAVING COUNT(*) = COUNT(ended_at) AND MAX(ended_at) < v_thr;
    batches: LOOP
        START TRANSACTION;
        SELECT COUNT(*), MAX(id) INTO v_cnt, v_hi FROM (
            SELECT m.id FROM messages m
            WHERE m.id > v_last
              AND m.customer_id IN (SELECT e.customer_id FROM bench_expired e)
            ORDER BY m.id LIMIT p_batch) s;
        IF v_cnt = 0 THEN
            COMMIT;
            LEAVE batches;
        END IF;
        DELETE FROM messages
        WHERE id > v_last AND id <= v_hi
          AND customer_id IN (SELECT e.customer_id FROM bench_expired e)
          AND NOT EXISTS (SELECT 1 FROM subscriptions r WHERE r.customer_id = messages.customer_id
                            AND (r.ended_at IS NULL OR r.ended_at >= v_thr));
        SET v_n = ROW_COUNT();
        SET p_total = p_total + v_n;
        SET v_b = v_b + 1;
        INSERT INTO bench_batches VALUES ('e', v_b, v_n, SYSDATE(6));
        COMMIT;
        IF v_cnt < p_batch THEN
            LEAVE batches;
        END IF;
        IF p_max_ms > 0 AND TIMESTAMPDIFF(MICROSECOND, v_start, SYSDATE(6)) >= p_max_ms * 1000 THEN
            LEAVE batches;
        END IF;
        IF p_sleep_ms > 0 THEN
            DO SLEEP(p_sleep_ms / 1000);
        END IF;
        SET v_last = v_hi;
    END LOOP;
    DROP TEMPORARY TABLE IF EXISTS bench_expired;
END //
DELIMITER ;
