// One vocabulary over node-appwrite's two database services, so a scenario runs through the
// legacy Databases API and TablesDB alike (names follow TablesDB).
import { Databases, TablesDB } from "node-appwrite";

export function service(kind, client) {
  const legacy = kind === "legacy";
  const s = legacy ? new Databases(client) : new TablesDB(client);
  const coll = (tableId) => (legacy ? { collectionId: tableId } : { tableId });
  const doc = (rowId) => (legacy ? { documentId: rowId } : { rowId });
  return {
    kind,
    legacy,
    raw: s,
    rowsKey: legacy ? "documents" : "rows",
    err: (name) => (legacy ? name : name.replace(/^document_/, "row_").replace(/^collection_/, "table_").replace(/^attribute_/, "column_")),
    op(action, databaseId, tableId, rowId, data) {
      const o = { action, databaseId, [legacy ? "collectionId" : "tableId"]: tableId };
      if (rowId !== undefined) o[legacy ? "documentId" : "rowId"] = rowId;
      if (data !== undefined) o.data = data;
      return o;
    },
    create: (p) => s.create(p),
    delete: (p) => s.delete(p),
    createTable: ({ tableId, ...p }) => (legacy ? s.createCollection({ ...p, ...coll(tableId) }) : s.createTable({ ...p, tableId })),
    createString: ({ tableId, ...p }) => (legacy ? s.createStringAttribute({ ...p, ...coll(tableId) }) : s.createStringColumn({ ...p, tableId })),
    createInteger: ({ tableId, ...p }) => (legacy ? s.createIntegerAttribute({ ...p, ...coll(tableId) }) : s.createIntegerColumn({ ...p, tableId })),
    getColumn: ({ tableId, ...p }) => (legacy ? s.getAttribute({ ...p, ...coll(tableId) }) : s.getColumn({ ...p, tableId })),
    listColumns: async ({ tableId, ...p }) => {
      const r = legacy ? await s.listAttributes({ ...p, ...coll(tableId) }) : await s.listColumns({ ...p, tableId });
      return legacy ? r.attributes : r.columns;
    },
    deleteColumn: ({ tableId, ...p }) => (legacy ? s.deleteAttribute({ ...p, ...coll(tableId) }) : s.deleteColumn({ ...p, tableId })),
    createRelationship: ({ tableId, relatedTableId, ...p }) =>
      legacy
        ? s.createRelationshipAttribute({ ...p, ...coll(tableId), relatedCollectionId: relatedTableId })
        : s.createRelationshipColumn({ ...p, tableId, relatedTableId }),
    updateRelationship: ({ tableId, ...p }) =>
      legacy ? s.updateRelationshipAttribute({ ...p, ...coll(tableId) }) : s.updateRelationshipColumn({ ...p, tableId }),
    createRow: ({ tableId, rowId, ...p }) => (legacy ? s.createDocument({ ...p, ...coll(tableId), ...doc(rowId) }) : s.createRow({ ...p, tableId, rowId })),
    createRows: ({ tableId, rows, ...p }) => (legacy ? s.createDocuments({ ...p, ...coll(tableId), documents: rows }) : s.createRows({ ...p, tableId, rows })),
    getRow: ({ tableId, rowId, ...p }) => (legacy ? s.getDocument({ ...p, ...coll(tableId), ...doc(rowId) }) : s.getRow({ ...p, tableId, rowId })),
    listRows: async ({ tableId, ...p }) => {
      const r = legacy ? await s.listDocuments({ ...p, ...coll(tableId) }) : await s.listRows({ ...p, tableId });
      return { total: r.total, rows: legacy ? r.documents : r.rows };
    },
    updateRow: ({ tableId, rowId, ...p }) => (legacy ? s.updateDocument({ ...p, ...coll(tableId), ...doc(rowId) }) : s.updateRow({ ...p, tableId, rowId })),
    upsertRow: ({ tableId, rowId, ...p }) => (legacy ? s.upsertDocument({ ...p, ...coll(tableId), ...doc(rowId) }) : s.upsertRow({ ...p, tableId, rowId })),
    deleteRow: ({ tableId, rowId, ...p }) => (legacy ? s.deleteDocument({ ...p, ...coll(tableId), ...doc(rowId) }) : s.deleteRow({ ...p, tableId, rowId })),
    updateRows: ({ tableId, ...p }) => (legacy ? s.updateDocuments({ ...p, ...coll(tableId) }) : s.updateRows({ ...p, tableId })),
    upsertRows: ({ tableId, rows, ...p }) => (legacy ? s.upsertDocuments({ ...p, ...coll(tableId), documents: rows }) : s.upsertRows({ ...p, tableId, rows })),
    deleteRows: ({ tableId, ...p }) => (legacy ? s.deleteDocuments({ ...p, ...coll(tableId) }) : s.deleteRows({ ...p, tableId })),
    increment: ({ tableId, rowId, column, ...p }) =>
      legacy
        ? s.incrementDocumentAttribute({ ...p, ...coll(tableId), ...doc(rowId), attribute: column })
        : s.incrementRowColumn({ ...p, tableId, rowId, column }),
    decrement: ({ tableId, rowId, column, ...p }) =>
      legacy
        ? s.decrementDocumentAttribute({ ...p, ...coll(tableId), ...doc(rowId), attribute: column })
        : s.decrementRowColumn({ ...p, tableId, rowId, column }),
    createTransaction: (p = {}) => s.createTransaction(p),
    getTransaction: (p) => s.getTransaction(p),
    listTransactions: (p = {}) => s.listTransactions(p),
    updateTransaction: (p) => s.updateTransaction(p),
    deleteTransaction: (p) => s.deleteTransaction(p),
    createOperations: (p) => s.createOperations(p),
  };
}

export const KINDS = ["legacy", "tables"];
