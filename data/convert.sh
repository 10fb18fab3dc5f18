#!/usr/bin/env bash
# Converts the CDNOW logs of the BTYD literature (shared/data/CDNOW_*.txt: whitespace-separated,
# dates as YYYYMMDD, CRLF line ends) into the clean CSVs bundled here (LF line ends). Run from the repository root:
#   bash data/convert.sh ../shared/data
set -euo pipefail
src=${1:-../shared/data}
# Sample: master id, sample id (1..2357), date, CDs, dollars. The sample id is the customer id,
# as in the papers' summaries (cdnow_customers_summary*.csv).
awk 'BEGIN { print "customer_id,date,quantity,amount" }
     { sub(/\r$/, "") }
     NF == 5 { printf "%d,%s-%s-%s,%d,%s\n", $2, substr($3,1,4), substr($3,5,2), substr($3,7,2), $4, $5 }' \
    "$src/CDNOW_sample.txt" > data/cdnow_sample.csv
# Master: header line, then id, date, CDs, dollars.
awk 'BEGIN { print "customer_id,date,quantity,amount" }
     { sub(/\r$/, "") }
     NF == 4 && $2 ~ /^[0-9]+$/ { printf "%d,%s-%s-%s,%d,%s\n", $1, substr($2,1,4), substr($2,5,2), substr($2,7,2), $3, $4 }' \
    "$src/CDNOW_master.txt" > data/cdnow_master.csv
cp "$src/cdnow_customers_summary.csv" "$src/cdnow_customers_summary_with_transactions.csv" data/
# BG/BB's donations histogram (Fader, Hardie & Shang 2010), unchanged.
cp "$src/donations.csv" data/
