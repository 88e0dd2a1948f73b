using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Writeback.Aggregate.Models;

/// <summary>What a compilation depends on besides the SQL text.</summary>
/// <param name="BusinessDate">Inlined as a <c>DATE 'yyyy-MM-dd'</c> literal: a typed DateOnly cannot carry SQL,
/// and inlining keeps the same text runnable on both engines (BigQuery EXPORT DATA and DuckDB COPY differ in
/// how they take parameters).</param>
/// <param name="TableQualifier">For BigQuery, <c>project.dataset</c> that holds the warehouse tables; null
/// locally, where the tables are in the embedded database's default schema.</param>
public sealed record ModelParameters(DateOnly BusinessDate, string? TableQualifier = null);

/// <summary>A model compiled for one dialect: one statement, a WITH chain of its parts then the model's SELECT.</summary>
public sealed record CompiledModel(string Name, SqlDialect Dialect, string Sql, IReadOnlyList<string> Parts);

/// <summary>
/// Compiles <c>sql/models/*.sql</c> into single statements. A file names the parts it needs with
/// <c>-- include: part_name</c> lines; parts may include parts. Each part becomes one CTE, emitted once and after
/// the parts it depends on, so shared logic is written in one file and never pasted. Where the engines differ a
/// file says so explicitly, either with a block (<c>-- dialect: duckdb</c> … <c>-- dialect: bigquery</c> …
/// <c>-- dialect: end</c>) or with a macro: <c>{{ business_date }}</c>, <c>{{ table "name" }}</c>,
/// <c>{{ type "numeric(5,2)" }}</c>.
/// </summary>
public sealed partial class SqlModelCompiler(ISqlSource source)
{
    public SqlModelCompiler() : this(EmbeddedSqlSource.Instance)
    {
    }

    public CompiledModel Compile(string model, SqlDialect dialect, ModelParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        RequireName(model, "model");
        var text = source.FindModel(model) ?? throw new SqlModelException($"no model named \"{model}\"");
        var body = Parse(text, $"model {model}");

        var ordered = new List<(string Name, string Sql)>();
        var done = new HashSet<string>(StringComparer.Ordinal);
        var visiting = new Stack<string>();
        foreach (var include in body.Includes)
        {
            AddPart(include, dialect, parameters, ordered, done, visiting);
        }

        var sql = new StringBuilder();
        for (var i = 0; i < ordered.Count; i++)
        {
            sql.Append(i == 0 ? "WITH " : ",\n").Append(ordered[i].Name).Append(" AS (\n")
                .Append(Indent(ordered[i].Sql)).Append("\n)");
        }

        if (ordered.Count > 0)
        {
            sql.Append('\n');
        }

        sql.Append(Render(body.Lines, dialect, parameters, $"model {model}"));
        return new CompiledModel(model, dialect, sql.ToString(), ordered.ConvertAll(p => p.Name));
    }

    private void AddPart(
        string name,
        SqlDialect dialect,
        ModelParameters parameters,
        List<(string Name, string Sql)> ordered,
        HashSet<string> done,
        Stack<string> visiting)
    {
        if (done.Contains(name))
        {
            return;
        }

        if (visiting.Contains(name))
        {
            throw new SqlModelException($"parts include each other in a cycle: {string.Join(" -> ", visiting.Reverse().Append(name))}");
        }

        RequireName(name, "part");
        var text = source.FindPart(name) ?? throw new SqlModelException($"no part named \"{name}\" (included by {(visiting.Count > 0 ? visiting.Peek() : "the model")})");
        var part = Parse(text, $"part {name}");
        visiting.Push(name);
        foreach (var include in part.Includes)
        {
            AddPart(include, dialect, parameters, ordered, done, visiting);
        }

        visiting.Pop();
        done.Add(name);
        ordered.Add((name, Render(part.Lines, dialect, parameters, $"part {name}")));
    }

    private static (List<string> Includes, List<string> Lines) Parse(string text, string what)
    {
        var includes = new List<string>();
        var lines = new List<string>();
        foreach (var raw in text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'))
        {
            var include = IncludeDirective().Match(raw);
            if (include.Success)
            {
                var name = include.Groups[1].Value;
                RequireName(name, $"include in {what}");
                if (!includes.Contains(name))
                {
                    includes.Add(name);
                }

                continue;
            }

            lines.Add(raw);
        }

        return (includes, lines);
    }

    /// <summary>Keeps the lines meant for the dialect, expands macros, and trims blank edges and a final semicolon.</summary>
    private static string Render(List<string> lines, SqlDialect dialect, ModelParameters parameters, string what)
    {
        var kept = new List<string>();
        SqlDialect? block = null;
        foreach (var line in lines)
        {
            var directive = DialectDirective().Match(line);
            if (directive.Success)
            {
                var value = directive.Groups[1].Value;
                if (value.Equals("end", StringComparison.OrdinalIgnoreCase))
                {
                    block = null;
                }
                else if (SqlDialects.TryParse(value, out var d))
                {
                    block = d;
                }
                else
                {
                    throw new SqlModelException($"{what}: unknown dialect \"{value}\" (use duckdb, bigquery or end)");
                }

                continue;
            }

            if (block is null || block == dialect)
            {
                kept.Add(line);
            }
        }

        if (block is not null)
        {
            throw new SqlModelException($"{what}: a \"-- dialect: {block}\" block is not closed with \"-- dialect: end\"");
        }

        var text = string.Join('\n', kept).Trim();
        if (text.EndsWith(';'))
        {
            text = text[..^1].TrimEnd();
        }

        if (text.Length == 0)
        {
            throw new SqlModelException($"{what} has no SQL for {dialect}");
        }

        return Macro().Replace(text, m => Expand(m, dialect, parameters, what));
    }

    private static string Expand(Match match, SqlDialect dialect, ModelParameters parameters, string what)
    {
        var name = match.Groups["name"].Value;
        var argument = match.Groups["arg"].Success ? match.Groups["arg"].Value : null;
        switch (name)
        {
            case "business_date" when argument is null:
                return "DATE '" + parameters.BusinessDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + "'";
            case "table" when argument is not null:
                RequireName(argument, $"table in {what}");
                return dialect switch
                {
                    SqlDialect.BigQuery when parameters.TableQualifier is { } q => $"`{RequireQualifier(q)}.{argument}`",
                    _ => argument,
                };
            case "type" when argument is not null:
                return SqlDialects.TypeName(dialect, argument);
            default:
                throw new SqlModelException($"{what}: unknown macro \"{match.Value}\" (known: {{{{ business_date }}}}, {{{{ table \"name\" }}}}, {{{{ type \"pg type\" }}}})");
        }
    }

    private static void RequireName(string name, string what)
    {
        if (!Name().IsMatch(name))
        {
            throw new SqlModelException($"{what}: \"{name}\" is not a valid name (lower-case letters, digits, underscores)");
        }
    }

    private static string RequireQualifier(string qualifier) =>
        Qualifier().IsMatch(qualifier) ? qualifier : throw new SqlModelException($"\"{qualifier}\" is not a BigQuery project.dataset");

    private static string Indent(string sql) => "  " + sql.Replace("\n", "\n  ", StringComparison.Ordinal);

    [GeneratedRegex(@"^\s*--\s*include:\s*(\S+)\s*$")]
    private static partial Regex IncludeDirective();

    [GeneratedRegex(@"^\s*--\s*dialect:\s*(\S+)\s*$")]
    private static partial Regex DialectDirective();

    [GeneratedRegex(@"\{\{\s*(?<name>[a-z_]+)(?:\s+""(?<arg>[^""]*)"")?\s*\}\}")]
    private static partial Regex Macro();

    [GeneratedRegex(@"^[a-z][a-z0-9_]{0,62}$")]
    private static partial Regex Name();

    [GeneratedRegex(@"^[a-z][a-z0-9-]{4,61}[a-z0-9]\.[A-Za-z0-9_]{1,1024}$")]
    private static partial Regex Qualifier();
}
