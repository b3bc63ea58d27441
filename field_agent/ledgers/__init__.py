"""The ledgers a town office keeps: definitions, rows from the records, .xlsx/.csv writers, roster import."""
