#include "devexcl/json_writer.hpp"

#include <gtest/gtest.h>

#include <sstream>

using devexcl::JsonWriter;

TEST(JsonWriter, NestedContainersAndSeparators) {
    JsonWriter j;
    j.begin_object();
    j.field("a", std::uint64_t{1});
    j.key("b").begin_array().value(true).value("x").null().end_array();
    j.key("c").begin_object().field("d", -2).end_object();
    j.end_object();
    EXPECT_EQ(j.str(), R"({"a":1,"b":[true,"x",null],"c":{"d":-2}})");
}

TEST(JsonWriter, EscapesControlAndQuoteCharacters) {
    EXPECT_EQ(JsonWriter::escape("a\"b\\c\n\x01"), R"("a\"b\\c\n\u0001")");
}

TEST(JsonWriter, FlushToStreamsADocumentInPieces) {
    JsonWriter j;
    std::ostringstream doc;
    j.begin_object().field("n", 2).key("records").begin_array();
    j.flush_to(doc);
    EXPECT_EQ(j.str(), "");
    j.begin_object().field("i", 0).end_object();
    j.flush_to(doc);
    j.begin_object().field("i", 1).end_object();
    j.flush_to(doc);
    j.end_array().end_object();
    j.flush_to(doc);
    EXPECT_EQ(doc.str(), R"({"n":2,"records":[{"i":0},{"i":1}]})");
}
