-- Each card's behaviour, computed by Flink over event time. This one definition serves
-- training (train.sql reads the topic up to its current end) and live scoring (score.sql).
--
-- Flink 2.2 computes one OVER window per projection in streaming mode, so the windows are
-- chained views; the CASTs keep the planner from merging them (it otherwise names two
-- window results alike and rejects the plan).

-- Rows that cannot be placed in a card's history never reach the windows.
CREATE VIEW card_events AS
SELECT * FROM transactions
WHERE tx_id IS NOT NULL AND card_id IS NOT NULL AND event_time IS NOT NULL;

-- The card's previous transaction (this row itself when there is none).
CREATE VIEW card_previous AS
SELECT *,
  CAST(COUNT(*) OVER w AS INT) AS rows_to_previous,
  FIRST_VALUE(lat) OVER w AS previous_lat,
  FIRST_VALUE(lon) OVER w AS previous_lon,
  FIRST_VALUE(event_time) OVER w AS previous_time
FROM card_events
WINDOW w AS (PARTITION BY card_id ORDER BY event_time ROWS BETWEEN 1 PRECEDING AND CURRENT ROW);

CREATE VIEW card_10m AS
SELECT *, CAST(COUNT(*) OVER (PARTITION BY card_id ORDER BY event_time
  RANGE BETWEEN INTERVAL '10' MINUTE PRECEDING AND CURRENT ROW) AS INT) AS tx_count_10m
FROM card_previous;

CREATE VIEW card_24h AS
SELECT *, CAST(COUNT(*) OVER (PARTITION BY card_id ORDER BY event_time
  RANGE BETWEEN INTERVAL '1' DAY PRECEDING AND CURRENT ROW) AS INT) AS tx_count_24h
FROM card_10m;

CREATE VIEW card_30d AS
SELECT *, CAST(AVG(amount) OVER (PARTITION BY card_id ORDER BY event_time
  RANGE BETWEEN INTERVAL '30' DAY PRECEDING AND CURRENT ROW) AS DOUBLE) AS avg_amount_30d
FROM card_24h;

CREATE VIEW features AS
SELECT
  tx_id, card_id, event_time, is_fraud,
  category,
  amount,
  online,
  CAST(HOUR(event_time) AS INT) AS hour_of_day,
  tx_count_10m,
  tx_count_24h,
  amount / NULLIF(avg_amount_30d, 0) AS amount_to_avg_30d,
  CASE WHEN rows_to_previous = 2
       THEN CAST(TIMESTAMPDIFF(SECOND, previous_time, event_time) AS DOUBLE) END
    AS seconds_since_previous,
  CASE WHEN rows_to_previous = 2
       THEN 12742 * ASIN(SQRT(
              POWER(SIN(RADIANS(lat - previous_lat) / 2), 2)
              + COS(RADIANS(previous_lat)) * COS(RADIANS(lat))
                * POWER(SIN(RADIANS(lon - previous_lon) / 2), 2))) END
    AS km_from_previous
FROM card_30d;
