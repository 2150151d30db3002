-- The orders received over a span of days (a peak's forecast reads the site's last weeks).
CREATE INDEX order_bodies_received ON order_bodies (received_ms);
