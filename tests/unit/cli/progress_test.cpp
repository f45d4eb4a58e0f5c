// The progress line's fitting to the terminal width.
#include "cli/progress.hpp"

#include <gtest/gtest.h>

using flagcrawl::cli::fit_columns;

namespace {

TEST(ProgressLine, FitsTheTerminalWithoutFillingItsLastColumn) {
    EXPECT_EQ(fit_columns("0123456789", 0), "0123456789") << "unknown width: unchanged";
    EXPECT_EQ(fit_columns("0123456789", 11), "0123456789");
    EXPECT_EQ(fit_columns("0123456789", 10), "012345678");
    EXPECT_EQ(fit_columns("0123456789", 5), "0123");
    EXPECT_EQ(fit_columns("0123456789", 1), "0");
    EXPECT_EQ(fit_columns("", 5), "");
}

TEST(ProgressLine, Utf8SequencesAreOneColumnAndNeverCut) {
    // "é" is two bytes, one column; "→" three bytes, one column.
    EXPECT_EQ(fit_columns("caf\xC3\xA9 \xE2\x86\x92 ok", 7), "caf\xC3\xA9 \xE2\x86\x92");
    EXPECT_EQ(fit_columns("\xC3\xA9\xC3\xA9\xC3\xA9", 3), "\xC3\xA9\xC3\xA9");
}

} // namespace
