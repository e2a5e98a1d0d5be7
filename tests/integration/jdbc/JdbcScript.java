// Runs SQL statements through a JDBC driver and prints each result, for the gateway tests.
//
//   java -cp .:flink-sql-jdbc-driver-bundle.jar JdbcScript URL STATEMENT...
//
// Per statement it prints "== <statement>", then either "columns: a, b" and one
// tab-separated line per row, "updated: N", or "error: <message>"; a failed statement does
// not stop the ones after it.
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

public class JdbcScript {
    public static void main(String[] args) throws SQLException {
        try (Connection connection = DriverManager.getConnection(args[0])) {
            for (int i = 1; i < args.length; i++) {
                System.out.println("== " + args[i]);
                try (Statement statement = connection.createStatement()) {
                    if (statement.execute(args[i])) {
                        print(statement.getResultSet());
                    } else {
                        System.out.println("updated: " + statement.getUpdateCount());
                    }
                } catch (Exception error) {  // the driver also throws unchecked ones
                    Throwable root = error;
                    while (root.getCause() != null) {
                        root = root.getCause();
                    }
                    System.out.println("error: " + root.getMessage().replace('\n', ' '));
                }
            }
        }
    }

    private static void print(ResultSet rows) throws SQLException {
        ResultSetMetaData meta = rows.getMetaData();
        List<String> names = new ArrayList<>();
        for (int c = 1; c <= meta.getColumnCount(); c++) {
            names.add(meta.getColumnName(c));
        }
        System.out.println("columns: " + String.join(", ", names));
        while (rows.next()) {
            List<String> values = new ArrayList<>();
            for (int c = 1; c <= meta.getColumnCount(); c++) {
                values.add(String.valueOf(rows.getObject(c)));
            }
            System.out.println(String.join("\t", values));
        }
    }
}
