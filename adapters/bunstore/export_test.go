package bunstore

// SQLiteTimeFormat exports, to the external tests, the text form of a time
// on SQLite (rows the tests write by hand must hold what bun writes).
const SQLiteTimeFormat = sqliteTimeFormat
