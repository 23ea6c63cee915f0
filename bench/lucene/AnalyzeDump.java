// Dev-only reference dump: runs Anserini's DefaultEnglishAnalyzer (Lucene StandardTokenizer, possessive filter,
// lowercase, English stopwords, Porter) over stdin lines and prints the tokens of each line, space-separated.
// With the argument "porter", each input line is one word and only PorterStemFilter is applied (lowercased input).
// Build/run with the Anserini fatjar shipped in the pyserini wheel: see bench/bm25_vs_pyserini.sh.
import java.io.*;
import java.nio.charset.StandardCharsets;
import org.apache.lucene.analysis.*;
import org.apache.lucene.analysis.core.KeywordTokenizer;
import org.apache.lucene.analysis.en.PorterStemFilter;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import io.anserini.analysis.DefaultEnglishAnalyzer;

public class AnalyzeDump {
  public static void main(String[] args) throws Exception {
    Analyzer analyzer;
    if (args.length > 0 && args[0].equals("porter")) {
      analyzer = new Analyzer() {
        @Override protected TokenStreamComponents createComponents(String f) {
          Tokenizer t = new KeywordTokenizer();
          return new TokenStreamComponents(t, new PorterStemFilter(t));
        }
      };
    } else {
      analyzer = DefaultEnglishAnalyzer.newDefaultInstance();
    }
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    PrintStream out = new PrintStream(new BufferedOutputStream(System.out), false, "UTF-8");
    String line;
    while ((line = in.readLine()) != null) {
      StringBuilder sb = new StringBuilder();
      try (TokenStream ts = analyzer.tokenStream("contents", line)) {
        CharTermAttribute term = ts.addAttribute(CharTermAttribute.class);
        ts.reset();
        boolean first = true;
        while (ts.incrementToken()) {
          if (!first) sb.append(' ');
          sb.append(term.toString());
          first = false;
        }
        ts.end();
      }
      out.println(sb);
    }
    out.flush();
  }
}
