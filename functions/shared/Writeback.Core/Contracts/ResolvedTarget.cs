using Writeback.Core.Sql;

namespace Writeback.Core.Contracts;

/// <summary>A validated target with its types parsed and its identifiers quoted, ready to build SQL from.</summary>
public sealed class ResolvedTarget
{
    public ResolvedTarget(Target contract)
    {
        ArgumentNullException.ThrowIfNull(contract);
        var problem = ContractReader.ValidateTarget(contract);
        if (problem is not null)
        {
            throw new ContractException($"target {contract.Dataset}: {problem}");
        }

        Contract = contract;
        var parts = contract.Table.Split('.');
        Schema = parts[0];
        TableName = parts[1];
        QualifiedTable = Identifiers.Quote(Schema) + "." + Identifiers.Quote(TableName);
        Columns = [.. contract.Columns.Select(c => Resolve(c))];
        Key = [.. contract.Key];
        Partition = contract.PartitionColumn is null ? null : Columns.Single(c => c.Name == contract.PartitionColumn);
    }

    public Target Contract { get; }

    public string Dataset => Contract.Dataset;

    public string Table => Contract.Table;

    public string Schema { get; }

    public string TableName { get; }

    /// <summary><c>"schema"."table"</c>.</summary>
    public string QualifiedTable { get; }

    public IReadOnlyList<ResolvedColumn> Columns { get; }

    public IReadOnlyList<string> Key { get; }

    public LoadMode Mode => Contract.LoadMode;

    public ResolvedColumn? Partition { get; }

    public ResolvedColumn? Find(string name) => Columns.FirstOrDefault(c => c.Name == name);

    /// <summary>The contract's schema version: 1, or the last version its history lists.</summary>
    public int SchemaVersion => Contract.History.Count + 1;

    /// <summary>
    /// The target as it was at an earlier schema version: that version's columns and types, for a manifest exported
    /// then. Null when a later version dropped a column (such a manifest carries a column the table no longer has).
    /// </summary>
    public ResolvedTarget? AtVersion(int version)
    {
        if (version == SchemaVersion)
        {
            return this;
        }

        var columns = SchemaHistory.ColumnsAt(Contract, version);
        return columns is null ? null : new ResolvedTarget(Contract with { Columns = columns, History = [.. Contract.History.Take(version - 1)] });
    }

    private static ResolvedColumn Resolve(TargetColumn column)
    {
        var type = ColumnType.TryParse(column.Type)!;
        return new ResolvedColumn(column.Name, type, column.Nullable, column.Default is { } value ? SchemaHistory.DefaultSql(type, value) : null);
    }
}

/// <param name="DefaultSql">The column's default as SQL for DDL (a quoted literal cast to the type), or null.</param>
public sealed record ResolvedColumn(string Name, ColumnType Type, bool Nullable, string? DefaultSql = null)
{
    public string Quoted { get; } = Identifiers.Quote(Name);

    /// <summary>The column as DDL declares it: type, default and NOT NULL.</summary>
    public string Definition => $"{Quoted} {Type.Sql}{(DefaultSql is null ? string.Empty : " DEFAULT " + DefaultSql)}{(Nullable ? string.Empty : " NOT NULL")}";
}
