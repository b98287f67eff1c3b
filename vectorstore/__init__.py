"""The vector store: the only package that imports chromadb. Store, embeddings, lexical index, search."""
