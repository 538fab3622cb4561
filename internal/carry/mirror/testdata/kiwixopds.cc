// Reads an OPDS catalogue from stdin with libkiwix's own catalogue client
// (kiwix::Manager::readOpds, the code Kiwix's readers use for their online
// library) and prints each book it found, one "field=value" per line,
// books separated by a blank line. Test helper of ferry's mirror package.
#include <iostream>
#include <iterator>
#include <string>

#include <kiwix/book.h>
#include <kiwix/library.h>
#include <kiwix/manager.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: kiwixopds URLHOST < catalog.xml\n";
    return 2;
  }
  std::string content((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  kiwix::Library lib;
  kiwix::Manager mgr(&lib);
  if (!mgr.readOpds(content, argv[1])) {
    std::cerr << "kiwixopds: libkiwix could not parse the catalogue\n";
    return 1;
  }
  for (const auto& id : lib.getBooksIds()) {
    const kiwix::Book& b = lib.getBookById(id);
    std::cout << "id=" << b.getId() << "\n"
              << "name=" << b.getName() << "\n"
              << "title=" << b.getTitle() << "\n"
              << "description=" << b.getDescription() << "\n"
              << "language=" << b.getLanguage() << "\n"
              << "creator=" << b.getCreator() << "\n"
              << "publisher=" << b.getPublisher() << "\n"
              << "date=" << b.getDate() << "\n"
              << "url=" << b.getUrl() << "\n"
              << "size=" << b.getSize() << "\n"
              << "articles=" << b.getArticleCount() << "\n"
              << "media=" << b.getMediaCount() << "\n"
              << "category=" << b.getCategory() << "\n\n";
  }
  return 0;
}
